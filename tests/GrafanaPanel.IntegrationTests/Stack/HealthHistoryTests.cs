using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Stack;

public sealed class HealthHistoryTests : IAsyncLifetime
{
    // The app's own monitor may probe and prune while a test runs: samples here are recent (well inside the
    // retention it prunes to) and belong to services no real probe names. Whole seconds, as PostgreSQL keeps microseconds.
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(-12).ToUnixTimeSeconds());

    private readonly string _prefix = $"test-{Guid.NewGuid():N}"[..13] + "-";
    private readonly PanelAppFactory _app = new();

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
    }

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    private IHealthHistory History => _app.Services.GetRequiredService<IHealthHistory>();

    [Fact]
    public async Task RecentAsync_returns_the_newest_samples_since_a_time_oldest_first()
    {
        var grafana = Enumerable.Range(0, 10).Select(i => Sample("grafana", Start.AddSeconds(10 * i), healthy: i != 7, latency: i)).ToList();
        await History.AppendAsync([.. grafana, Sample("loki", Start.AddSeconds(95), healthy: true, latency: 99)], CancellationToken.None);

        var recent = await History.RecentAsync(Service("grafana"), Start.AddSeconds(20), max: 5, CancellationToken.None);

        Assert.Equal([50, 60, 70, 80, 90], recent.Select(s => (int)(s.At - Start).TotalSeconds));
        Assert.Equal([5, 6, 7, 8, 9], recent.Select(s => s.LatencyMs));
        Assert.All(recent, s => Assert.Equal(Service("grafana"), s.Service));
        Assert.False(recent[2].Healthy);
        Assert.Equal("probe 7", recent[2].Message);
        Assert.Equal(8, (await History.RecentAsync(Service("grafana"), Start.AddSeconds(20), max: 100, CancellationToken.None)).Count);
        Assert.Empty(await History.RecentAsync(Service("grafana"), Start.AddSeconds(20), max: 0, CancellationToken.None));
        Assert.Empty(await History.RecentAsync(Service("tempo"), Start, max: 10, CancellationToken.None));
    }

    [Fact]
    public async Task LatencyAsync_charts_only_successful_probes_averaging_runs_of_them_down_to_the_points_asked_for()
    {
        // Latencies 0..11, probe 5 failed (its 5 ms is a timeout's stand-in and must not count).
        await History.AppendAsync(
            [.. Enumerable.Range(0, 12).Select(i => Sample("alloy", Start.AddSeconds(15 * i), healthy: i != 5, latency: i)), Sample("tempo", Start, healthy: true, latency: 500)],
            CancellationToken.None);

        var every = await History.LatencyAsync(Service("alloy"), Start.AddSeconds(15), maxPoints: 100, CancellationToken.None);
        var four = await History.LatencyAsync(Service("alloy"), Start, maxPoints: 4, CancellationToken.None);

        Assert.Equal([1.0, 2, 3, 4, 6, 7, 8, 9, 10, 11], every.Select(p => p.LatencyMs));
        Assert.Equal(Start.AddSeconds(15 * 11), every[^1].At);
        // Eleven successful probes in runs of three: 0-2, 3-6 (without 5), 7-9, 10-11.
        Assert.Equal([1.0, 13 / 3.0, 8, 10.5], four.Select(p => p.LatencyMs));
        Assert.Equal([Start.AddSeconds(30), Start.AddSeconds(90), Start.AddSeconds(135), Start.AddSeconds(165)], four.Select(p => p.At));
        Assert.Empty(await History.LatencyAsync(Service("alloy"), Start, maxPoints: 0, CancellationToken.None));
    }

    [Fact]
    public async Task AppendAsync_keeps_the_instant_whatever_the_offset_and_takes_an_empty_batch()
    {
        var plusTwo = Start.AddMinutes(1).ToOffset(TimeSpan.FromHours(2));
        await History.AppendAsync([Sample("redis", plusTwo, healthy: true, latency: 3)], CancellationToken.None);
        await History.AppendAsync([], CancellationToken.None);

        var sample = Assert.Single(await History.RecentAsync(Service("redis"), Start, 10, CancellationToken.None));
        Assert.Equal(plusTwo, sample.At);
    }

    [Fact]
    public async Task PruneAsync_deletes_only_samples_older_than_the_time_and_says_how_many()
    {
        await History.AppendAsync(
            [.. Enumerable.Range(0, 6).Select(i => Sample(i % 2 == 0 ? "grafana" : "loki", Start.AddHours(i), healthy: true, latency: i))],
            CancellationToken.None);

        var deleted = await History.PruneAsync(Start.AddHours(3), CancellationToken.None);

        Assert.Equal(3, deleted);
        Assert.Equal([Start.AddHours(4)], (await History.RecentAsync(Service("grafana"), Start, 10, CancellationToken.None)).Select(s => s.At));
        Assert.Equal([Start.AddHours(3), Start.AddHours(5)], (await History.RecentAsync(Service("loki"), Start, 10, CancellationToken.None)).Select(s => s.At));
        Assert.Equal(0, await History.PruneAsync(Start.AddHours(3), CancellationToken.None));
    }

    [Fact]
    public async Task The_history_survives_a_restart_of_the_portal_on_the_same_database()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        try
        {
            await using (var first = new PanelAppFactory { Database = database })
            {
                await ((IAsyncLifetime)first).InitializeAsync();
                await first.WaitUntilDatabaseReadyAsync();
                await first.Services.GetRequiredService<IHealthHistory>().AppendAsync(
                    [Sample("prometheus", Start, healthy: true, latency: 12), Sample("prometheus", Start.AddSeconds(10), healthy: false, latency: 3000)],
                    CancellationToken.None);
            }

            await using var second = new PanelAppFactory { Database = database };
            await ((IAsyncLifetime)second).InitializeAsync();
            await second.WaitUntilDatabaseReadyAsync();
            var recent = await second.Services.GetRequiredService<IHealthHistory>().RecentAsync(Service("prometheus"), Start, 10, CancellationToken.None);

            Assert.Equal([(true, 12), (false, 3000)], recent.Select(s => (s.Healthy, s.LatencyMs)));
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    private string Service(string name) => _prefix + name;

    private ProbeSample Sample(string service, DateTimeOffset at, bool healthy, int latency) =>
        new(Service(service), at, healthy, latency, $"probe {latency}");
}
