using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Stack;

public sealed class VolumeSizeHistoryTests : IAsyncLifetime
{
    // Whole seconds, as PostgreSQL keeps microseconds; well inside the retention the app's monitor prunes to.
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(-12).ToUnixTimeSeconds());

    // A project with no container: the app's own monitor keeps nothing while these tests write their own samples.
    private readonly PanelAppFactory _app = new PanelAppFactory().With("Stack:ProjectName", "gpsizes" + Guid.NewGuid().ToString("N")[..8]);

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
    }

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    private IVolumeSizeHistory History => _app.Services.GetRequiredService<IVolumeSizeHistory>();

    [Fact]
    public async Task TotalsAsync_adds_up_each_measurement_oldest_first_without_the_unknown_sizes()
    {
        await History.AppendAsync(Start.AddMinutes(10), [new("lab_grafana", 300), new("lab_loki", 700), new("lab_tempo", null)], CancellationToken.None);
        await History.AppendAsync(Start, [new("lab_grafana", 100), new("lab_loki", 200)], CancellationToken.None);
        await History.AppendAsync(Start.AddMinutes(5).ToOffset(TimeSpan.FromHours(2)), [new("lab_grafana", 150)], CancellationToken.None);
        await History.AppendAsync(Start.AddMinutes(15), [new("lab_tempo", null)], CancellationToken.None);

        var totals = await History.TotalsAsync(Start.AddMinutes(1), maxPoints: 100, CancellationToken.None);

        Assert.Equal([(Start.AddMinutes(5), 150L, 1), (Start.AddMinutes(10), 1000L, 2)], totals.Select(t => (t.At, t.TotalBytes, t.VolumeCount)));
        Assert.Equal(3, (await History.TotalsAsync(Start, 100, CancellationToken.None)).Count);
        Assert.Empty(await History.TotalsAsync(Start, 0, CancellationToken.None));
    }

    [Fact]
    public async Task TotalsAsync_thins_out_evenly_and_keeps_the_newest_measurement()
    {
        for (var i = 0; i < 10; i++)
        {
            await History.AppendAsync(Start.AddMinutes(i), [new("lab_grafana", 1000 + i)], CancellationToken.None);
        }

        var totals = await History.TotalsAsync(Start, maxPoints: 4, CancellationToken.None);

        Assert.Equal([1000L, 1003, 1006, 1009], totals.Select(t => t.TotalBytes));
        Assert.Equal([1000L, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009], (await History.TotalsAsync(Start, 10, CancellationToken.None)).Select(t => t.TotalBytes));
    }

    [Fact]
    public async Task PruneAsync_deletes_only_samples_older_than_the_time_and_says_how_many()
    {
        await History.AppendAsync(Start, [new("lab_grafana", 1), new("lab_loki", 2)], CancellationToken.None);
        await History.AppendAsync(Start.AddHours(1), [new("lab_grafana", 3), new("lab_loki", 4)], CancellationToken.None);
        await History.AppendAsync(Start.AddHours(2), [new("lab_grafana", 5)], CancellationToken.None);

        Assert.Equal(2, await History.PruneAsync(Start.AddHours(1), CancellationToken.None));

        Assert.Equal([(Start.AddHours(1), 7L), (Start.AddHours(2), 5L)], (await History.TotalsAsync(Start, 10, CancellationToken.None)).Select(t => (t.At, t.TotalBytes)));
        Assert.Equal(0, await History.PruneAsync(Start.AddHours(1), CancellationToken.None));
    }
}

/// <summary>The stack monitor keeps what it measures of the lab's volumes, on the real daemon and database.</summary>
public sealed class VolumeSizeRecordingTests
{
    [Fact]
    public async Task The_monitor_keeps_the_measured_size_of_a_lab_volume_and_old_samples_are_pruned()
    {
        await using var project = new TestProject();
        var volume = await project.CreateVolumeAsync("data");
        await project.RunToEndAsync("seed", ["-v", $"{volume}:/data"], "dd", "if=/dev/zero", "of=/data/blob", "bs=1024", "count=2048");
        var id = await project.RunAsync("writer", ["-v", $"{volume}:/data"], "sleep", "3600");
        await TestProject.WaitForStatusAsync(id, "running");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        await using var app = new PanelAppFactory()
            .With("Stack:ProjectName", project.Name)
            // The next measurement is an hour away: what is kept is the first one, made as the portal starts.
            .With("Stack:VolumeSizeInterval", "01:00:00");
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            var dbFactory = app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>();
            async Task<List<VolumeSizeSampleEntity>> SamplesAsync()
            {
                await using var db = await dbFactory.CreateDbContextAsync();
                return await db.VolumeSizeSamples.AsNoTracking().OrderBy(s => s.At).ToListAsync();
            }

            // dd wrote 2 MiB; the daemon's disk usage counts the blocks the file takes.
            var kept = await Eventually.ReturnsAsync(SamplesAsync, s => s.Any(x => x.SizeBytes >= 2 * 1024 * 1024), TimeSpan.FromSeconds(30),
                $"a kept size of {volume} of at least 2 MiB");
            Assert.All(kept, s => Assert.Equal(volume, s.VolumeName));
            Assert.All(kept, s => Assert.True(s.At >= before, $"{s.At:o} is before the portal started"));
            var totals = await app.Services.GetRequiredService<IVolumeSizeHistory>().TotalsAsync(before, 1000, CancellationToken.None);
            Assert.Contains(totals, t => t.TotalBytes >= 2 * 1024 * 1024 && t.VolumeCount == 1);

            // PostgreSQL keeps microseconds: a cut-off a tick after the newest would equal it there.
            var cutoff = kept[^1].At.AddMilliseconds(1);
            var older = (await SamplesAsync()).Count(s => s.At < cutoff);
            Assert.Equal(older, await app.Services.GetRequiredService<IVolumeSizeHistory>().PruneAsync(cutoff, CancellationToken.None));
            Assert.DoesNotContain(await SamplesAsync(), s => s.At < cutoff);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
