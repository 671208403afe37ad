namespace GrafanaPanel.Web.Docker;

/// <summary>A container's lifecycle state as the daemon reports it.</summary>
public enum ContainerState
{
    Unknown,
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

/// <summary>Docker's own health check result; <see cref="Status"/> is "starting", "healthy", "unhealthy" or "none".</summary>
public sealed record HealthRecord(string Status, int FailingStreak, string? LastOutput, DateTimeOffset? LastCheckAt);

/// <summary>A container port and where it is published on the host (null when not published).</summary>
public sealed record PortRecord(int PrivatePort, string Protocol, int? PublicPort, string? HostIp);

/// <summary>A mount of a container; <see cref="VolumeName"/> is set for named volumes.</summary>
public sealed record MountRecord(string Type, string? VolumeName, string Source, string Destination, bool ReadOnly);

/// <summary>Everything the portal needs to know about one container, in the project's own terms.</summary>
public sealed record ContainerRecord(
    string Id,
    string Name,
    string Image,
    ContainerState State,
    string StatusText,
    HealthRecord? Health,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int ExitCode,
    int RestartCount,
    IReadOnlyList<PortRecord> Ports,
    IReadOnlyDictionary<string, string> NetworkAddresses,
    IReadOnlyList<MountRecord> Mounts,
    IReadOnlyDictionary<string, string> Labels)
{
    public const string ProjectLabel = "com.docker.compose.project";
    public const string ServiceLabel = "com.docker.compose.service";
    public const string DependsOnLabel = "com.docker.compose.depends_on";
    public const string VolumeLabel = "com.docker.compose.volume";

    /// <summary>Set on the portal's own services (portal and its database); they are never stopped by the portal.</summary>
    public const string PortalRoleLabel = "grafana-panel.role";

    public string? Project => Labels.GetValueOrDefault(ProjectLabel);

    public string? Service => Labels.GetValueOrDefault(ServiceLabel);

    public bool IsPortal => Labels.ContainsKey(PortalRoleLabel);
}

/// <summary>One event from the daemon's event stream.</summary>
public sealed record EngineEvent(string Type, string Action, string ActorId, IReadOnlyDictionary<string, string> Attributes, DateTimeOffset Time);

/// <summary>A volume with its size as measured by the daemon's disk-usage endpoint (null when the daemon does not say).</summary>
public sealed record VolumeUsage(string Name, long? SizeBytes, long? RefCount, IReadOnlyDictionary<string, string> Labels);

/// <summary>A one-shot resource sample of a running container.</summary>
public sealed record ContainerStats(double CpuPercent, long MemoryBytes, long? MemoryLimitBytes);

public enum LogStream
{
    Stdout,
    Stderr,
}

/// <summary>One log line of a container, with the daemon's timestamp.</summary>
public sealed record LogLine(DateTimeOffset Timestamp, LogStream Stream, string Text);
