using System.Collections.Concurrent;
using System.Net;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.IntegrationTests.Docker;

/// <summary>
/// <see cref="DockerEngine"/> against the real daemon. Each test arranges its own labelled containers and volumes
/// with the docker CLI (never with the engine under test) and removes them afterwards.
/// </summary>
public sealed class DockerEngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TestProject _project = new();
    private readonly DockerEngine _engine = DockerCli.CreateEngine();

    public ValueTask InitializeAsync() => new(TestProject.EnsureImageAsync());

    public async ValueTask DisposeAsync()
    {
        _engine.Dispose();
        await _project.DisposeAsync();
    }

    [Fact]
    public async Task ListContainersAsync_reports_state_and_health_of_containers_in_every_state()
    {
        var healthy = await _project.RunAsync("healthy", ["--health-cmd", "true", "--health-interval", "1s"], "sleep", "600");
        var unhealthy = await _project.RunAsync("unhealthy",
            ["--health-cmd", "echo probe failed; exit 1", "--health-interval", "1s", "--health-retries", "1"], "sleep", "600");
        // Docker 20.10 runs the first check only after one interval, so this one stays "starting".
        var starting = await _project.RunAsync("starting", ["--health-cmd", "true", "--health-interval", "1h"], "sleep", "600");
        var exited = await _project.RunAsync("exited", "sh", "-c", "exit 3");
        var restarting = await _project.RunAsync("restarting", ["--restart", "always"], "sh", "-c", "exit 1");
        var paused = await _project.RunAsync("paused", "sleep", "600");
        await TestProject.WaitForStatusAsync(paused, "running");
        await DockerCli.RunAsync("pause", paused);

        var containers = await Eventually.ReturnsAsync(
            () => _engine.ListContainersAsync(_project.Name, CancellationToken.None),
            list => list.Count == 6
                && Find(list, healthy).Health?.Status == "healthy"
                && Find(list, unhealthy).Health?.Status == "unhealthy"
                && Find(list, exited).State == ContainerState.Exited
                && Find(list, restarting).State == ContainerState.Restarting,
            Patience, "every state to show");

        var healthyRecord = Find(containers, healthy);
        Assert.Equal(ContainerState.Running, healthyRecord.State);
        Assert.Equal(0, healthyRecord.Health!.FailingStreak);
        Assert.NotNull(healthyRecord.Health.LastCheckAt);
        Assert.NotNull(healthyRecord.StartedAt);
        Assert.Contains("(healthy)", healthyRecord.StatusText);

        var unhealthyRecord = Find(containers, unhealthy);
        Assert.Equal(ContainerState.Running, unhealthyRecord.State);
        Assert.True(unhealthyRecord.Health!.FailingStreak >= 1, $"failing streak {unhealthyRecord.Health.FailingStreak}");
        Assert.Equal("probe failed", unhealthyRecord.Health.LastOutput);
        Assert.True(unhealthyRecord.Health.LastCheckAt > DateTimeOffset.UtcNow.AddMinutes(-5));

        var startingRecord = Find(containers, starting);
        Assert.Equal(ContainerState.Running, startingRecord.State);
        Assert.Equal("starting", startingRecord.Health!.Status);
        Assert.Null(startingRecord.Health.LastOutput);

        var exitedRecord = Find(containers, exited);
        Assert.Equal(3, exitedRecord.ExitCode);
        Assert.NotNull(exitedRecord.FinishedAt);
        Assert.Null(exitedRecord.Health);
        Assert.StartsWith("Exited (3)", exitedRecord.StatusText);

        Assert.True(Find(containers, restarting).RestartCount >= 1);
        Assert.Equal(ContainerState.Paused, Find(containers, paused).State);
        Assert.All(containers, c => Assert.Equal(_project.Name, c.Project));
    }

    [Fact]
    public async Task ListContainersAsync_reports_image_ports_mounts_networks_and_labels()
    {
        var data = await _project.CreateVolumeAsync("data");
        var config = await _project.CreateVolumeAsync("config");
        var id = await _project.RunAsync("web",
            ["-p", "127.0.0.1::8080", "-v", $"{data}:/data", "-v", $"{config}:/config:ro"], "sleep", "600");
        await TestProject.WaitForStatusAsync(id, "running");
        var published = await DockerCli.RunAsync("port", id, "8080/tcp");

        var record = Assert.Single(await _engine.ListContainersAsync(_project.Name, CancellationToken.None));

        Assert.Equal(id, record.Id);
        Assert.Equal($"{_project.Name}-web-1", record.Name);
        Assert.Equal(TestProject.Image, record.Image);
        Assert.Equal("web", record.Service);
        Assert.StartsWith("Up", record.StatusText);
        var port = Assert.Single(record.Ports);
        Assert.Equal((8080, "tcp", "127.0.0.1"), (port.PrivatePort, port.Protocol, port.HostIp));
        Assert.Equal($"127.0.0.1:{port.PublicPort}", published);
        Assert.True(IPAddress.TryParse(record.NetworkAddresses["bridge"], out _), record.NetworkAddresses["bridge"]);
        var dataMount = Assert.Single(record.Mounts, m => m.VolumeName == data);
        Assert.Equal(("volume", "/data", false), (dataMount.Type, dataMount.Destination, dataMount.ReadOnly));
        Assert.True(Assert.Single(record.Mounts, m => m.VolumeName == config).ReadOnly);

        var inspected = await _engine.InspectContainerAsync(id, CancellationToken.None);
        Assert.NotNull(inspected);
        Assert.Equal((record.Id, record.Name, record.State, record.StartedAt), (inspected.Id, inspected.Name, inspected.State, inspected.StartedAt));
        Assert.StartsWith("Up", inspected.StatusText);
        Assert.Equal(record.Ports, inspected.Ports);
    }

    [Fact]
    public async Task ListContainersAsync_never_returns_containers_of_another_project()
    {
        await using var other = new TestProject();
        var otherId = await other.RunAsync("app", "sleep", "600");
        var ownId = await _project.RunAsync("app", "sleep", "600");

        var own = await _engine.ListContainersAsync(_project.Name, CancellationToken.None);
        var theirs = await _engine.ListContainersAsync(other.Name, CancellationToken.None);

        Assert.Equal(ownId, Assert.Single(own).Id);
        Assert.Equal(otherId, Assert.Single(theirs).Id);
    }

    [Theory]
    [InlineData("0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef")]
    [InlineData("gp-no-such-container")]
    [InlineData("../grafana")]
    [InlineData("a\nb")]
    public async Task InspectContainerAsync_returns_null_when_no_such_container_exists(string id)
    {
        Assert.Null(await _engine.InspectContainerAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Stop_start_and_restart_change_the_real_container_and_repeating_them_is_no_error()
    {
        var id = await _project.RunAsync("app", "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done");
        await TestProject.WaitForStatusAsync(id, "running");
        var grace = TimeSpan.FromSeconds(5);

        await _engine.StopContainerAsync(id, grace, CancellationToken.None);
        Assert.Equal("exited", await StatusAsync(id));
        await _engine.StopContainerAsync(id, grace, CancellationToken.None);
        Assert.Equal("exited", await StatusAsync(id));

        await _engine.StartContainerAsync(id, CancellationToken.None);
        Assert.Equal("running", await StatusAsync(id));
        await _engine.StartContainerAsync(id, CancellationToken.None);
        Assert.Equal("running", await StatusAsync(id));

        var startedBefore = await StartedAtAsync(id);
        await _engine.RestartContainerAsync(id, grace, CancellationToken.None);
        Assert.Equal("running", await StatusAsync(id));
        Assert.True(await StartedAtAsync(id) > startedBefore, "StartedAt moved on with the restart");
    }

    [Fact]
    public async Task Start_stop_and_restart_of_an_unknown_container_throw_DockerNotFoundException()
    {
        const string id = "gp-no-such-container";

        await Assert.ThrowsAsync<DockerNotFoundException>(() => _engine.StartContainerAsync(id, CancellationToken.None));
        await Assert.ThrowsAsync<DockerNotFoundException>(() => _engine.StopContainerAsync(id, TimeSpan.FromSeconds(1), CancellationToken.None));
        var error = await Assert.ThrowsAsync<DockerNotFoundException>(() => _engine.RestartContainerAsync(id, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Contains(id, error.Message);
        await Assert.ThrowsAsync<DockerNotFoundException>(() => _engine.StartContainerAsync("../images/x", CancellationToken.None));
    }

    [Fact]
    public async Task A_daemon_refusal_carries_the_daemons_message()
    {
        var id = await _project.RunAsync("app", "sleep", "600");
        await TestProject.WaitForStatusAsync(id, "running");
        await DockerCli.RunAsync("pause", id);

        // A paused container cannot be started; the daemon says so (409) in its own words.
        var error = await Assert.ThrowsAsync<DockerOperationException>(() => _engine.StartContainerAsync(id, CancellationToken.None));

        Assert.Equal("cannot start a paused container, try unpause instead", error.Message);
    }

    [Fact]
    public async Task WatchEventsAsync_delivers_the_projects_container_and_volume_events_only()
    {
        await using var other = new TestProject();
        var ours = await _project.RunAsync("app", "sleep", "600");
        var theirs = await other.RunAsync("app", "sleep", "600");
        using var watching = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (watch, seen) = StartWatching(_engine, _project.Name, watching.Token);

        // The subscriptions start in the background; act until one of ours shows, acting on theirs first each
        // time, so their events (if any got through) would arrive before ours.
        await RepeatUntilSeenAsync(seen, async () =>
        {
            await DockerCli.RunAsync("restart", "-t", "0", theirs);
            await DockerCli.RunAsync("restart", "-t", "0", ours);
        }, e => e.Type == "container" && e.ActorId == ours && e.Action == "start");
        var volumeAttempt = 0;
        await RepeatUntilSeenAsync(seen, async () =>
        {
            volumeAttempt++;
            await DockerCli.RunAsync("volume", "create", "--label", $"{ContainerRecord.ProjectLabel}={other.Name}", $"{other.Name}_v{volumeAttempt}");
            await _project.CreateVolumeAsync($"v{volumeAttempt}");
        }, e => e.Type == "volume" && e.Action == "create" && e.ActorId.StartsWith(_project.Name + "_", StringComparison.Ordinal));

        await DockerCli.RunAsync("stop", "-t", "0", theirs);
        await DockerCli.RunAsync("stop", "-t", "0", ours);
        await Eventually.HoldsAsync(() => seen.Any(e => e.ActorId == ours && e.Action == "stop"), Patience, "the stop event");

        var stop = seen.Last(e => e.ActorId == ours && e.Action == "stop");
        Assert.Equal("app", stop.Attributes[ContainerRecord.ServiceLabel]);
        Assert.True(stop.Time > DateTimeOffset.UtcNow.AddMinutes(-5) && stop.Time < DateTimeOffset.UtcNow.AddMinutes(1), $"{stop.Time:O}");
        Assert.DoesNotContain(seen, e => e.ActorId == theirs || e.ActorId.StartsWith(other.Name, StringComparison.Ordinal));
        Assert.DoesNotContain(seen, e => e.Action.StartsWith("exec_", StringComparison.Ordinal));

        await watching.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WatchEventsAsync_ends_with_DockerUnavailableException_when_the_daemon_restarts()
    {
        // A private daemon: the shared one runs other people's containers.
        await using var daemon = await IsolatedDockerd.StartAsync();
        using var engine = DockerCli.CreateEngine(daemon.Endpoint);
        var volumeAttempt = 0;
        Task CreateVolumeAsync() => DockerCli.RunAsync(["volume", "create", $"{_project.Name}_v{++volumeAttempt}"], daemon.Endpoint);

        using var watching = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (watch, seen) = StartWatching(engine, _project.Name, watching.Token);
        await RepeatUntilSeenAsync(seen, CreateVolumeAsync, e => e.Type == "volume");

        await daemon.StopAsync();

        var error = await Assert.ThrowsAsync<DockerUnavailableException>(() => watch.WaitAsync(Patience));
        Assert.Equal(daemon.Endpoint, error.Endpoint);

        // What a caller does next: reconnect once the daemon is back.
        await daemon.StartAgainAsync();
        var (rewatch, seenAgain) = StartWatching(engine, _project.Name, watching.Token);
        await RepeatUntilSeenAsync(seenAgain, CreateVolumeAsync, e => e.Type == "volume");
        await watching.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rewatch.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ReadLogsAsync_returns_the_last_lines_with_stdout_and_stderr_told_apart()
    {
        // Pauses between writes: the daemon copies stdout and stderr separately, so lines written at once may swap.
        var id = await _project.RunAsync("app", "sh", "-c", "echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three; sleep 600");
        await Eventually.ReturnsAsync(() => ReadAllLogsAsync(id, 100), lines => lines.Count == 3, Patience, "three log lines");

        var last = await ReadAllLogsAsync(id, 2);

        Assert.Equal([(LogStream.Stderr, "two"), (LogStream.Stdout, "three")], last.Select(l => (l.Stream, l.Text)));
        Assert.True(last[0].Timestamp <= last[1].Timestamp);
        Assert.True(last[1].Timestamp > DateTimeOffset.UtcNow.AddMinutes(-5) && last[1].Timestamp < DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task ReadLogsAsync_with_follow_receives_a_line_written_later_and_stops_when_cancelled()
    {
        var id = await _project.RunAsync("app", "sh", "-c",
            "echo a; echo b >&2; while [ ! -f /tmp/go ]; do sleep 0.2; done; echo c; sleep 600");
        var received = new ConcurrentQueue<LogLine>();
        using var following = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var follow = Task.Run(async () =>
        {
            await foreach (var line in _engine.ReadLogsAsync(id, 10, follow: true, following.Token))
            {
                received.Enqueue(line);
            }
        });

        await Eventually.HoldsAsync(() => received.Count >= 2, Patience, "the first two lines");
        Assert.DoesNotContain(received, l => l.Text == "c");
        await DockerCli.RunAsync("exec", id, "touch", "/tmp/go");
        await Eventually.HoldsAsync(() => received.Any(l => l.Text == "c"), Patience, "the line written later");

        var lines = received.ToDictionary(l => l.Text);
        Assert.Equal(["a", "b", "c"], received.Select(l => l.Text).Order());
        Assert.Equal(LogStream.Stdout, lines["a"].Stream);
        Assert.Equal(LogStream.Stderr, lines["b"].Stream);
        Assert.Equal(LogStream.Stdout, lines["c"].Stream);
        Assert.True(lines["c"].Timestamp > lines["a"].Timestamp);

        await following.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ReadLogsAsync_reads_a_tty_container_as_one_stream()
    {
        var id = await _project.RunAsync("app", ["-t"], "sh", "-c", "echo tty-line; echo second-line; sleep 600");

        var lines = await Eventually.ReturnsAsync(() => ReadAllLogsAsync(id, 100), l => l.Count == 2, Patience, "two tty lines");

        Assert.Equal([(LogStream.Stdout, "tty-line"), (LogStream.Stdout, "second-line")], lines.Select(l => (l.Stream, l.Text)));
    }

    [Fact]
    public async Task ReadLogsAsync_of_an_unknown_container_throws_DockerNotFoundException()
    {
        await Assert.ThrowsAsync<DockerNotFoundException>(() => ReadAllLogsAsync("gp-no-such-container", 10));
    }

    [Fact]
    public async Task GetVolumeUsageAsync_reports_the_size_written_into_a_volume()
    {
        var volume = await _project.CreateVolumeAsync("data");
        var empty = await _project.CreateVolumeAsync("empty");
        await _project.RunToEndAsync("writer", ["-v", $"{volume}:/data"], "dd", "if=/dev/zero", "of=/data/blob", "bs=1048576", "count=3");
        await _project.RunAsync("user", ["-v", $"{volume}:/data"], "sleep", "600");

        var usage = await _engine.GetVolumeUsageAsync(CancellationToken.None);

        var measured = Assert.Single(usage, v => v.Name == volume);
        Assert.InRange(measured.SizeBytes!.Value, 3L * 1024 * 1024, 4L * 1024 * 1024 - 1);
        Assert.Equal(1, measured.RefCount);
        Assert.Equal(_project.Name, measured.Labels[ContainerRecord.ProjectLabel]);
        Assert.Equal("data", measured.Labels[ContainerRecord.VolumeLabel]);
        var emptyUsage = Assert.Single(usage, v => v.Name == empty);
        Assert.Equal(((long?)0, (long?)0), (emptyUsage.SizeBytes, emptyUsage.RefCount));
    }

    [Fact]
    public async Task GetStatsAsync_reports_cpu_and_memory_of_a_running_container()
    {
        var id = await _project.RunAsync("busy", ["--memory", "64m"], "sh", "-c", "while :; do :; done");
        await TestProject.WaitForStatusAsync(id, "running");

        var stats = await _engine.GetStatsAsync(id, CancellationToken.None);

        Assert.True(stats.MemoryBytes > 0, $"memory {stats.MemoryBytes}");
        Assert.Equal(64L * 1024 * 1024, stats.MemoryLimitBytes);
        // A shell spinning on one core: well above zero, and at most the whole machine.
        Assert.InRange(stats.CpuPercent, 5, 100.0 * Environment.ProcessorCount + 1);
    }

    [Fact]
    public async Task An_unreachable_endpoint_gives_DockerUnavailableException_naming_it()
    {
        const string endpoint = "unix:///tmp/nope.sock";
        using var engine = DockerCli.CreateEngine(endpoint);

        var errors = new List<DockerUnavailableException>
        {
            await Assert.ThrowsAsync<DockerUnavailableException>(() => engine.ListContainersAsync(_project.Name, CancellationToken.None)),
            await Assert.ThrowsAsync<DockerUnavailableException>(() => engine.InspectContainerAsync("abc", CancellationToken.None)),
            await Assert.ThrowsAsync<DockerUnavailableException>(() => engine.StartContainerAsync("abc", CancellationToken.None)),
            await Assert.ThrowsAsync<DockerUnavailableException>(() => engine.GetVolumeUsageAsync(CancellationToken.None)),
            await Assert.ThrowsAsync<DockerUnavailableException>(() => engine.GetStatsAsync("abc", CancellationToken.None)),
            await Assert.ThrowsAsync<DockerUnavailableException>(async () =>
            {
                await foreach (var _ in engine.WatchEventsAsync(_project.Name, CancellationToken.None))
                {
                }
            }),
            await Assert.ThrowsAsync<DockerUnavailableException>(async () =>
            {
                await foreach (var _ in engine.ReadLogsAsync("abc", 10, follow: false, CancellationToken.None))
                {
                }
            }),
        };

        Assert.All(errors, e =>
        {
            Assert.Equal(endpoint, e.Endpoint);
            Assert.Contains(endpoint, e.Message);
        });
    }

    private static ContainerRecord Find(IEnumerable<ContainerRecord> containers, string id) =>
        containers.FirstOrDefault(c => c.Id == id) ?? throw new Xunit.Sdk.XunitException($"container {id} is not listed");

    private static Task<string> StatusAsync(string id) => DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", id);

    private static async Task<DateTimeOffset> StartedAtAsync(string id) =>
        DateTimeOffset.Parse(await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<List<LogLine>> ReadAllLogsAsync(string id, int tail)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var lines = new List<LogLine>();
        await foreach (var line in _engine.ReadLogsAsync(id, tail, follow: false, timeout.Token))
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>Collects what <see cref="DockerEngine.WatchEventsAsync"/> delivers until the watch ends.</summary>
    private static (Task Watch, ConcurrentQueue<EngineEvent> Seen) StartWatching(DockerEngine engine, string project, CancellationToken ct)
    {
        var seen = new ConcurrentQueue<EngineEvent>();
        var watch = Task.Run(async () =>
        {
            await foreach (var engineEvent in engine.WatchEventsAsync(project, ct))
            {
                seen.Enqueue(engineEvent);
            }
        }, CancellationToken.None);
        return (watch, seen);
    }

    /// <summary>Repeats <paramref name="act"/> until an event matching <paramref name="match"/> has been seen.</summary>
    private static async Task RepeatUntilSeenAsync(ConcurrentQueue<EngineEvent> seen, Func<Task> act, Func<EngineEvent, bool> match)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            await act();
            try
            {
                await Eventually.HoldsAsync(() => seen.Any(match), TimeSpan.FromSeconds(3), "the event");
                return;
            }
            catch (TimeoutException)
            {
                // The subscription was not up yet when we acted; act again.
            }
        }

        throw new TimeoutException($"No matching event within {Patience.TotalSeconds:0} s; seen: {string.Join(", ", seen.Select(e => $"{e.Type}/{e.Action}/{e.ActorId}"))}");
    }
}
