using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>How the portal probes a service itself (besides Docker's own health check).</summary>
public enum ProbeKind
{
    /// <summary>GET a path; healthy on the expected status (and body text, when given).</summary>
    Http,

    /// <summary>A TCP connection is accepted.</summary>
    Tcp,

    /// <summary>Redis answers PING (PONG, or NOAUTH when a password is set: the server is up).</summary>
    Redis,

    /// <summary>PostgreSQL answers the SSL negotiation of its wire protocol.</summary>
    Postgres,
}

public sealed class ProbeDefinition
{
    public ProbeKind Kind { get; set; } = ProbeKind.Http;

    [Range(1, 65535)]
    public int Port { get; set; }

    public string Path { get; set; } = "/";

    public int ExpectStatus { get; set; } = 200;

    /// <summary>Text the body must contain (HTTP only); empty means any body.</summary>
    public string ExpectBody { get; set; } = "";
}

/// <summary>Which compose project the portal manages and how it watches it (section <c>Stack</c>).</summary>
public sealed class StackOptions
{
    public const string Section = "Stack";

    /// <summary>The compose project name (label <c>com.docker.compose.project</c>).</summary>
    [Required(ErrorMessage = "Stack__ProjectName is required: the compose project the portal manages.")]
    [RegularExpression("^[a-z0-9][a-z0-9_-]*$", ErrorMessage = "Stack__ProjectName must be a compose project name: lower-case letters, digits, '-' and '_'.")]
    public string ProjectName { get; set; } = "grafana-training";

    /// <summary>Host name used to build links to published ports, as the instructor's browser reaches them.</summary>
    public string PublicHost { get; set; } = "localhost";

    /// <summary>Full re-read of every container, in case an event was missed.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>CPU and memory are sampled this often, and only while someone looks at a stack page.</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Volume sizes come from the daemon's slow disk-usage endpoint: measured in the background this often.</summary>
    public TimeSpan VolumeSizeInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long probe results are kept for the heartbeat bar (at least 24 h).</summary>
    public TimeSpan HealthHistoryRetention { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How long the measured lab volume sizes are kept for the overview's chart.</summary>
    public TimeSpan VolumeSizeHistoryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Grace period before a stopping container is killed.</summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The course architecture's layer of each service; unknown services go to "other".</summary>
    public Dictionary<string, string> Layers { get; set; } = new(StringComparer.Ordinal)
    {
        ["grafana"] = "presentation",
        ["prometheus"] = "data",
        ["loki"] = "data",
        ["tempo"] = "data",
        ["influxdb"] = "data",
        ["postgres"] = "data",
        ["redis"] = "data",
        ["node-exporter"] = "collection",
        ["cadvisor"] = "collection",
        ["alloy"] = "collection",
        ["alertmanager"] = "support",
        ["panel"] = "support",
        ["panel-db"] = "support",
    };

    /// <summary>The portal's own probe of each service (defaults from the stack reference; add a service here to probe it).</summary>
    public Dictionary<string, ProbeDefinition> Probes { get; set; } = new(StringComparer.Ordinal)
    {
        ["grafana"] = new() { Port = 3000, Path = "/api/health", ExpectBody = "\"database\"" },
        ["prometheus"] = new() { Port = 9090, Path = "/-/ready" },
        ["loki"] = new() { Port = 3100, Path = "/ready", ExpectBody = "ready" },
        ["tempo"] = new() { Port = 3200, Path = "/ready", ExpectBody = "ready" },
        ["influxdb"] = new() { Port = 8086, Path = "/health", ExpectBody = "pass" },
        ["postgres"] = new() { Kind = ProbeKind.Postgres, Port = 5432 },
        ["redis"] = new() { Kind = ProbeKind.Redis, Port = 6379 },
        ["alertmanager"] = new() { Port = 9093, Path = "/-/ready" },
        ["node-exporter"] = new() { Port = 9100, Path = "/metrics" },
        ["cadvisor"] = new() { Port = 8080, Path = "/healthz", ExpectBody = "ok" },
        ["alloy"] = new() { Port = 12345, Path = "/-/ready" },
    };

    public static IReadOnlyList<string> LayerOrder { get; } = ["presentation", "data", "collection", "support", "other"];

    public string LayerOf(string service) => Layers.GetValueOrDefault(service, "other");
}
