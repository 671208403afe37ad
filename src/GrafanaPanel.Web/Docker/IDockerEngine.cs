namespace GrafanaPanel.Web.Docker;

/// <summary>
/// The project's only way to the Docker engine. Returns the project's own records; every call takes a
/// cancellation token, is bounded by <see cref="DockerOptions.RequestTimeout"/>, and reports
/// <see cref="DockerUnavailableException"/> / <see cref="DockerNotFoundException"/> instead of client exceptions.
/// </summary>
public interface IDockerEngine
{
    string Endpoint { get; }

    Task<EngineInfo> GetInfoAsync(CancellationToken ct);
}
