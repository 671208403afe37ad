using System.Collections.Immutable;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Tests.Features.Stack;

/// <summary>Container records as the engine would report them for a compose project.</summary>
public static class StackFixtures
{
    public const string Project = "grafana-training";

    public static ContainerRecord Container(
        string service,
        ContainerState state = ContainerState.Running,
        string? health = null,
        string? dependsOn = null,
        bool portal = false,
        string? volume = null,
        int? publicPort = null,
        string project = Project,
        string hostIp = "0.0.0.0")
    {
        var labels = new Dictionary<string, string>
        {
            [ContainerRecord.ProjectLabel] = project,
            [ContainerRecord.ServiceLabel] = service,
        };
        if (dependsOn is not null)
        {
            labels[ContainerRecord.DependsOnLabel] = dependsOn;
        }

        if (portal)
        {
            labels[ContainerRecord.PortalRoleLabel] = "portal";
        }

        return new ContainerRecord(
            Id: $"{service}-id",
            Name: $"{project}-{service}-1",
            Image: $"local/{service}:1",
            State: state,
            StatusText: state.ToString(),
            Health: health is null ? null : new HealthRecord(health, health == "unhealthy" ? 3 : 0, health == "unhealthy" ? "curl: connection refused" : "ok", DateTimeOffset.UtcNow),
            CreatedAt: DateTimeOffset.UtcNow.AddHours(-2),
            StartedAt: state == ContainerState.Running ? DateTimeOffset.UtcNow.AddMinutes(-90) : null,
            FinishedAt: null,
            ExitCode: 0,
            RestartCount: 0,
            Ports: publicPort is null ? [] : [new PortRecord(publicPort.Value, "tcp", publicPort, hostIp)],
            NetworkAddresses: new Dictionary<string, string> { ["monitoring"] = "172.20.0.10" },
            Mounts: volume is null ? [] : [new MountRecord("volume", volume, $"/var/lib/docker/volumes/{volume}/_data", "/data", false)],
            Labels: labels);
    }
}
