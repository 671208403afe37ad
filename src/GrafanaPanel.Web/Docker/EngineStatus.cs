namespace GrafanaPanel.Web.Docker;

/// <summary>The latest known reachability of the Docker engine, shared by the app bar and /readyz.</summary>
public sealed record EngineState(bool Connected, string Endpoint, EngineInfo? Info, string? Error, DateTimeOffset CheckedAt);

/// <summary>Holds <see cref="EngineState"/> and tells subscribers when it changes.</summary>
public sealed class EngineStatus(IDockerEngine engine, TimeProvider time)
{
    private EngineState _current = new(false, engine.Endpoint, null, "Not checked yet.", time.GetUtcNow());

    public EngineState Current => Volatile.Read(ref _current);

    public event Action<EngineState>? Changed;

    /// <summary>Asks the daemon now and publishes the result.</summary>
    public async Task<EngineState> RefreshAsync(CancellationToken ct)
    {
        EngineState next;
        try
        {
            var info = await engine.GetInfoAsync(ct);
            next = new EngineState(true, engine.Endpoint, info, null, time.GetUtcNow());
        }
        catch (Exception ex) when (ex is DockerUnavailableException or DockerOperationException or DockerNotFoundException)
        {
            next = new EngineState(false, engine.Endpoint, null, ex.Message, time.GetUtcNow());
        }

        var previous = Interlocked.Exchange(ref _current, next);
        if (previous.Connected != next.Connected || previous.Error != next.Error || previous.Info != next.Info)
        {
            Changed?.Invoke(next);
        }

        return next;
    }
}

/// <summary>Checks the engine on an interval so the UI shows its state without asking per render.</summary>
public sealed class EngineMonitor(EngineStatus status, Microsoft.Extensions.Options.IOptions<DockerOptions> options, ILogger<EngineMonitor> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.MonitorInterval);
        var wasConnected = (bool?)null;
        do
        {
            var state = await status.RefreshAsync(stoppingToken);
            if (wasConnected != state.Connected)
            {
                if (state.Connected)
                {
                    logger.LogInformation("Docker engine {Endpoint} connected: version {Version}, API {ApiVersion}",
                        state.Endpoint, state.Info!.Version, state.Info.ApiVersion);
                }
                else
                {
                    logger.LogWarning("Docker engine {Endpoint} unreachable: {Error}", state.Endpoint, state.Error);
                }

                wasConnected = state.Connected;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
