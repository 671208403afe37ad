using GrafanaPanel.Web.Docker;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>
/// Keeps <see cref="StackSnapshot"/> current: follows the Docker events stream (reconnecting after the daemon
/// restarts), reconciles everything on an interval, probes each service, samples CPU/memory only while a page
/// watches, measures volume sizes in the background (keeping the lab volumes' sizes), and prunes old history.
/// </summary>
public sealed partial class StackMonitor(
    IDockerEngine engine,
    StackSnapshot snapshot,
    ServiceProber prober,
    IServiceScopeFactory scopes,
    IOptions<StackOptions> options,
    TimeProvider time,
    ILogger<StackMonitor> logger) : BackgroundService
{
    private readonly StackOptions _options = options.Value;
    private readonly SemaphoreSlim _volumeRefresh = new(0, 1);

    /// <summary>Asks for a new disk-usage measurement now (the manual refresh on the overview).</summary>
    public void RequestVolumeRefresh()
    {
        if (_volumeRefresh.CurrentCount == 0)
        {
            try
            {
                _volumeRefresh.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(
        FollowEventsAsync(stoppingToken),
        EveryAsync(_options.ReconcileInterval, ReconcileAsync, stoppingToken),
        EveryAsync(_options.ProbeInterval, ProbeAllAsync, stoppingToken),
        EveryAsync(_options.StatsInterval, SampleStatsAsync, stoppingToken),
        MeasureVolumesAsync(stoppingToken),
        EveryAsync(TimeSpan.FromHours(1), PruneHistoryAsync, stoppingToken));

    /// <summary>Reads every container of the project; on failure marks the snapshot stale and keeps the last state.</summary>
    public async Task ReconcileAsync(CancellationToken ct)
    {
        try
        {
            snapshot.ReplaceContainers(await engine.ListContainersAsync(_options.ProjectName, ct));
        }
        catch (Exception ex) when (ex is DockerUnavailableException or DockerOperationException)
        {
            snapshot.MarkStale(ex.Message);
        }
    }

    private async Task FollowEventsAsync(CancellationToken ct)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await FollowOnceAsync(ct);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is DockerUnavailableException or DockerOperationException)
            {
                snapshot.MarkStale(ex.Message);
                LogEventsLost(engine.Endpoint, ex.Message, backoff);
            }

            await Task.Delay(backoff, time, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, 15));
        }
    }

    /// <summary>One connection to the event stream: subscribe, read everything, then apply events until it ends.</summary>
    private async Task FollowOnceAsync(CancellationToken ct)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var events = engine.WatchEventsAsync(_options.ProjectName, connection.Token).GetAsyncEnumerator(connection.Token);
        // The first MoveNext starts the stream; reading everything after it means a change in between arrives as an event.
        var next = events.MoveNextAsync().AsTask();
        try
        {
            await ReconcileAsync(ct);
            if (snapshot.Current.IsStale)
            {
                throw new DockerUnavailableException(engine.Endpoint, snapshot.Current.StaleReason!);
            }

            LogEventsConnected(engine.Endpoint);
            while (await next)
            {
                await ApplyAsync(events.Current, ct);
                next = events.MoveNextAsync().AsTask();
            }
        }
        finally
        {
            // An async stream may only be disposed once its pending MoveNext has finished.
            await connection.CancelAsync();
            await next.ContinueWith(_ => { }, TaskScheduler.Default);
            await events.DisposeAsync();
        }
    }

    private async Task ApplyAsync(EngineEvent e, CancellationToken ct)
    {
        if (e.Type == "container")
        {
            if (e.Action == "destroy")
            {
                snapshot.RemoveContainer(e.ActorId);
                return;
            }

            var container = await engine.InspectContainerAsync(e.ActorId, ct);
            if (container is null)
            {
                snapshot.RemoveContainer(e.ActorId);
            }
            else if (container.Project == _options.ProjectName)
            {
                snapshot.UpsertContainer(container);
            }
        }
        else if (e.Type == "volume" && e.Action is "create" or "destroy")
        {
            RequestVolumeRefresh();
        }
    }

    private async Task ProbeAllAsync(CancellationToken ct)
    {
        var samples = new List<ProbeSample>();
        var probes = snapshot.Current.Services
            .Where(s => _options.Probes.ContainsKey(s.Name))
            .Select(async service =>
            {
                var container = service.Containers.FirstOrDefault(c => c.State == ContainerState.Running);
                var result = container is null
                    ? new ProbeResult(false, 0, $"Not running ({service.State.ToString().ToLowerInvariant()}).", time.GetUtcNow())
                    : await prober.ProbeAsync(container, _options.Probes[service.Name], _options.ProbeTimeout, ct);
                snapshot.SetProbe(service.Name, result);
                lock (samples)
                {
                    samples.Add(new ProbeSample(service.Name, result.At, result.Healthy, result.LatencyMs, result.Message));
                }
            });
        await Task.WhenAll(probes);
        if (samples.Count > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IHealthHistory>().AppendAsync(samples, ct);
        }
    }

    private async Task SampleStatsAsync(CancellationToken ct)
    {
        if (snapshot.Watchers == 0)
        {
            return;
        }

        var running = snapshot.Current.Services.SelectMany(s => s.Containers).Where(c => c.State == ContainerState.Running);
        await Task.WhenAll(running.Select(async c =>
        {
            try
            {
                snapshot.SetStats(c.Id, await engine.GetStatsAsync(c.Id, ct));
            }
            catch (Exception ex) when (ex is DockerNotFoundException or DockerOperationException)
            {
                // Stopped between the snapshot and the sample; the next event updates it.
            }
        }));
    }

    private async Task MeasureVolumesAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // Until the stack was read once no volume is known to be the lab's, so a measurement could not be kept.
            var stackRead = snapshot.Current.UpdatedAt is not null;
            if (stackRead)
            {
                try
                {
                    var usage = await engine.GetVolumeUsageAsync(ct);
                    var measuredAt = time.GetUtcNow();
                    snapshot.SetVolumeUsage(usage, measuredAt);
                    await KeepVolumeSizesAsync(measuredAt, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is DockerUnavailableException or DockerOperationException)
                {
                    LogVolumeSizesFailed(ex.Message);
                }
            }

            // Wait for the interval or a manual refresh, whichever comes first.
            try
            {
                await _volumeRefresh.WaitAsync(stackRead ? _options.VolumeSizeInterval : TimeSpan.FromSeconds(1), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Keeps the lab volumes' sizes for the overview's chart; a lost measurement is logged, the live sizes stay.</summary>
    private async Task KeepVolumeSizesAsync(DateTimeOffset measuredAt, CancellationToken ct)
    {
        var volumes = VolumeSizeHistory.MeasuredLabVolumes(snapshot.Current);
        if (volumes.Count == 0)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IVolumeSizeHistory>().AppendAsync(measuredAt, [.. volumes], ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogVolumeSizesNotKept(ex);
        }
    }

    private async Task PruneHistoryAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var now = time.GetUtcNow();
        var removed = await scope.ServiceProvider.GetRequiredService<IHealthHistory>()
            .PruneAsync(now - _options.HealthHistoryRetention, ct);
        LogHistoryPruned(removed);
        var removedSizes = await scope.ServiceProvider.GetRequiredService<IVolumeSizeHistory>()
            .PruneAsync(now - _options.VolumeSizeHistoryRetention, ct);
        LogVolumeSizesPruned(removedSizes);
    }

    /// <summary>Runs a step now and then on every tick; a failing step is logged and tried again at the next tick.</summary>
    private async Task EveryAsync(TimeSpan interval, Func<CancellationToken, Task> step, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await step(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogStepFailed(step.Method.Name, ex);
            }
        }
        while (await WaitAsync(timer, ct));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Following Docker events at {Endpoint}")]
    private partial void LogEventsConnected(string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost Docker events at {Endpoint}: {Error}; retrying in {Backoff}")]
    private partial void LogEventsLost(string endpoint, string error, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not measure volume sizes: {Error}")]
    private partial void LogVolumeSizesFailed(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pruned {Count} old probe samples")]
    private partial void LogHistoryPruned(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not keep the measured volume sizes")]
    private partial void LogVolumeSizesNotKept(Exception ex);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pruned {Count} old volume size samples")]
    private partial void LogVolumeSizesPruned(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stack monitor step {Step} failed")]
    private partial void LogStepFailed(string step, Exception ex);
}
