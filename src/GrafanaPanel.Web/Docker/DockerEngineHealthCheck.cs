using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrafanaPanel.Web.Docker;

/// <summary>Healthy when the Docker engine answers a version request now.</summary>
public sealed class DockerEngineHealthCheck(EngineStatus engine) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = await engine.RefreshAsync(cancellationToken);
        return state.Connected
            ? HealthCheckResult.Healthy($"Docker engine at {state.Endpoint}: version {state.Info!.Version}, API {state.Info.ApiVersion}.")
            : HealthCheckResult.Unhealthy(state.Error);
    }
}
