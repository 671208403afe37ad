namespace GrafanaPanel.Web.Docker;

/// <summary>
/// The project's only way to the Docker engine. Returns the project's own records; every call takes a
/// cancellation token, is bounded by <see cref="DockerOptions.RequestTimeout"/> (streams excepted), and
/// reports <see cref="DockerUnavailableException"/> / <see cref="DockerNotFoundException"/> /
/// <see cref="DockerOperationException"/> instead of client exceptions. Callers decide which containers
/// they may touch (see StackSnapshot); this layer does not.
/// </summary>
public interface IDockerEngine
{
    string Endpoint { get; }

    Task<EngineInfo> GetInfoAsync(CancellationToken ct);

    /// <summary>All containers (any state) labelled with the compose project, inspected for health, restarts and mounts.</summary>
    Task<IReadOnlyList<ContainerRecord>> ListContainersAsync(string project, CancellationToken ct);

    /// <summary>One container, inspected; null when it does not exist.</summary>
    Task<ContainerRecord?> InspectContainerAsync(string id, CancellationToken ct);

    Task StartContainerAsync(string id, CancellationToken ct);

    Task StopContainerAsync(string id, TimeSpan grace, CancellationToken ct);

    Task RestartContainerAsync(string id, TimeSpan grace, CancellationToken ct);

    /// <summary>
    /// Container, volume and network events of the project, as they happen. Ends with
    /// <see cref="DockerUnavailableException"/> when the daemon goes away; the caller reconnects.
    /// </summary>
    IAsyncEnumerable<EngineEvent> WatchEventsAsync(string project, CancellationToken ct);

    /// <summary>Volume sizes from <c>GET /system/df</c> (slow on big volumes: call it in the background).</summary>
    Task<IReadOnlyList<VolumeUsage>> GetVolumeUsageAsync(CancellationToken ct);

    /// <summary>One CPU/memory sample of a running container.</summary>
    Task<ContainerStats> GetStatsAsync(string id, CancellationToken ct);

    /// <summary>The last <paramref name="tail"/> lines, then (when <paramref name="follow"/>) new lines until cancelled.</summary>
    IAsyncEnumerable<LogLine> ReadLogsAsync(string id, int tail, bool follow, CancellationToken ct);
}
