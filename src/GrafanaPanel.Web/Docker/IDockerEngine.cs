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

    Task PauseContainerAsync(string id, CancellationToken ct);

    Task UnpauseContainerAsync(string id, CancellationToken ct);

    /// <summary>Removes a container and its anonymous volumes (force); a container that is already gone is no error.</summary>
    Task RemoveContainerAsync(string id, CancellationToken ct);

    /// <summary>Waits until the container exits and returns its exit code; gives up after <paramref name="limit"/>.</summary>
    Task<long> WaitContainerAsync(string id, TimeSpan limit, CancellationToken ct);

    /// <summary>
    /// Creates (never starts) a helper container from a body the portal writes: checked by
    /// <see cref="HelperContainerBody.Check"/> before it is sent, and inspected after. Every volume it mounts is read
    /// from the engine before and after the create (when the container pins it): one that does not exist, or that
    /// carries the label <c>grafana-panel.role</c> (the portal's own data), is refused with
    /// <see cref="PortalVolumeRefusedException"/> and no container is left. Returns its id.
    /// </summary>
    Task<string> CreateHelperContainerAsync(HelperContainerSpec spec, CancellationToken ct);

    /// <summary>Ids of the portal's helper containers for the project (label <c>grafana-panel.helper=true</c>), any state.</summary>
    Task<IReadOnlyList<string>> ListHelperContainersAsync(string project, CancellationToken ct);

    /// <summary>
    /// <c>GET /containers/{id}/archive?path=</c>: the tar of a folder in the container, volume content included (works
    /// on a container that was never started). Only opening is bounded by the request timeout; the caller disposes the stream.
    /// </summary>
    Task<Stream> GetArchiveAsync(string id, string path, CancellationToken ct);

    /// <summary><c>PUT /containers/{id}/archive?path=</c>: extracts <paramref name="tar"/> into a folder of the container.</summary>
    Task PutArchiveAsync(string id, string path, Stream tar, CancellationToken ct);

    /// <summary>Volumes labelled with the compose project.</summary>
    Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(string project, CancellationToken ct);

    /// <summary>Whether a volume of that name exists (in any project).</summary>
    Task<bool> VolumeExistsAsync(string name, CancellationToken ct);

    /// <summary>One volume with its labels as the engine holds them now (any project); null when it does not exist.</summary>
    Task<VolumeRecord?> InspectVolumeAsync(string name, CancellationToken ct);

    Task CreateVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken ct);

    /// <summary>Removes a volume; one that is already gone is no error.</summary>
    Task RemoveVolumeAsync(string name, CancellationToken ct);
}
