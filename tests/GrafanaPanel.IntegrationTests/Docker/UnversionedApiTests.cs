using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.IntegrationTests.Docker;

/// <summary>
/// The engine's requests as they reach the real daemon (through <see cref="DockerSocketRecorder"/>): every path is
/// unversioned, so a Docker 20.10 daemon (API 1.41), which refuses any path asking for a newer version, answers them all.
/// </summary>
public sealed class UnversionedApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TestProject _project = new();

    public ValueTask InitializeAsync() => new(TestProject.EnsureImageAsync());

    public ValueTask DisposeAsync() => _project.DisposeAsync();

    [Fact]
    public async Task Every_call_of_the_engine_uses_an_unversioned_path()
    {
        var ct = CancellationToken.None;
        var id = await _project.RunAsync("app", "sh", "-c", "echo hello; sleep 600");
        await _project.CreateVolumeAsync("data");
        await TestProject.WaitForStatusAsync(id, "running");
        await using var recorder = DockerSocketRecorder.Start();
        using var engine = DockerCli.CreateEngine(recorder.Endpoint);

        await engine.GetInfoAsync(ct);
        Assert.NotEmpty(await engine.ListContainersAsync(_project.Name, ct));
        Assert.NotNull(await engine.InspectContainerAsync(id, ct));
        await engine.GetStatsAsync(id, ct);
        Assert.NotEmpty(await engine.ListVolumesAsync(_project.Name, ct));
        await engine.GetVolumeUsageAsync(ct);
        await Eventually.ReturnsAsync(() => ReadLogsAsync(engine, id), lines => lines.Contains("hello"), Patience, "the container's log");
        await using (var tar = await engine.GetArchiveAsync(id, "/etc/hostname", ct))
        {
            await tar.CopyToAsync(Stream.Null, ct);
        }

        // The event stream starts in the background: restart the container until one of its events arrives.
        using (var watching = new CancellationTokenSource(Patience))
        {
            var firstEvent = FirstEventAsync(engine, _project.Name, watching.Token);
            while (!firstEvent.IsCompleted)
            {
                await engine.RestartContainerAsync(id, TimeSpan.Zero, ct);
                await Task.WhenAny(firstEvent, Task.Delay(TimeSpan.FromSeconds(1), ct));
            }

            Assert.Equal(id, (await firstEvent).ActorId);
        }

        var requests = recorder.Requests;
        foreach (var expected in new[] { "GET /version", "GET /containers/json", $"GET /containers/{id}/json", $"GET /containers/{id}/stats",
                     "GET /volumes", "GET /system/df", $"GET /containers/{id}/logs", $"GET /containers/{id}/archive", "GET /events",
                     $"POST /containers/{id}/restart" })
        {
            Assert.Contains(requests, r => r.StartsWith(expected, StringComparison.Ordinal));
        }

        Assert.All(requests, r => Assert.DoesNotMatch(@"^\S+ /v\d", r));
    }

    [Fact]
    public async Task A_restart_without_a_grace_period_asks_for_one_second_not_the_daemons_default_ten()
    {
        // sh as PID 1 ignores SIGTERM: the container ends only when the daemon kills it after the grace period.
        var id = await _project.RunAsync("app", "sh", "-c", "sleep 600");
        await TestProject.WaitForStatusAsync(id, "running");
        await using var recorder = DockerSocketRecorder.Start();
        using var engine = DockerCli.CreateEngine(recorder.Endpoint);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await engine.RestartContainerAsync(id, TimeSpan.Zero, CancellationToken.None);

        Assert.Contains($"POST /containers/{id}/restart?t=1", recorder.Requests);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"the restart took {watch.Elapsed}");
    }

    private static async Task<EngineEvent> FirstEventAsync(DockerEngine engine, string project, CancellationToken ct)
    {
        await foreach (var engineEvent in engine.WatchEventsAsync(project, ct))
        {
            return engineEvent;
        }

        throw new InvalidOperationException("The event stream ended without an event.");
    }

    private static async Task<List<string>> ReadLogsAsync(DockerEngine engine, string id)
    {
        var lines = new List<string>();
        await foreach (var line in engine.ReadLogsAsync(id, 10, follow: false, CancellationToken.None))
        {
            lines.Add(line.Text);
        }

        return lines;
    }
}
