namespace GrafanaPanel.Web.Features.Stack;

/// <summary>The overview in a stable JSON shape (what <c>GET /api/stack</c> returns).</summary>
public sealed record StackSummary(
    string Project,
    int Healthy,
    int Total,
    long? DiskUsedBytes,
    DateTimeOffset? VolumesMeasuredAt,
    string? Stale,
    IReadOnlyList<ServiceSummary> Services)
{
    public static StackSummary From(StackView view) => new(
        view.Project,
        view.HealthyCount,
        view.Services.Length,
        view.DiskUsedBytes,
        view.VolumesMeasuredAt,
        view.StaleReason,
        view.Services.Select(s => new ServiceSummary(
            s.Name,
            s.Layer,
            Format.State(s.State),
            Format.Health(s.Health),
            s.Image,
            s.StartedAt,
            s.RestartCount,
            s.PublishedPorts.Select(p => p.PublicPort!.Value).ToList(),
            s.Volumes.Select(v => new VolumeSummary(v.Name, v.SizeBytes)).ToList(),
            s.Probe?.LatencyMs,
            s.Stats?.CpuPercent,
            s.Stats?.MemoryBytes,
            s.IsPortal)).ToList());
}

public sealed record ServiceSummary(
    string Name,
    string Layer,
    string State,
    string Health,
    string Image,
    DateTimeOffset? StartedAt,
    int RestartCount,
    IReadOnlyList<int> Ports,
    IReadOnlyList<VolumeSummary> Volumes,
    int? ProbeLatencyMs,
    double? CpuPercent,
    long? MemoryBytes,
    bool IsPortal);

public sealed record VolumeSummary(string Name, long? SizeBytes);
