using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Docker;

/// <summary>How the portal reaches the Docker engine (section <c>Docker</c>).</summary>
public sealed class DockerOptions : IValidatableObject
{
    public const string Section = "Docker";

    /// <summary><c>unix:///var/run/docker.sock</c> or <c>tcp://host:2375</c>.</summary>
    public string Endpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>Upper bound for one ordinary call to the daemon.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Upper bound for <c>GET /system/df</c>, which walks every volume and can take minutes on big ones;
    /// the ordinary request timeout would cut it off.
    /// </summary>
    public TimeSpan DiskUsageTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the engine's reachability and version are checked.</summary>
    public TimeSpan MonitorInterval { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "tcp" or "http"))
        {
            yield return new ValidationResult(
                $"Docker__Endpoint '{Endpoint}' is not a Docker endpoint. Use unix:///var/run/docker.sock or tcp://HOST:PORT.",
                [nameof(Endpoint)]);
        }

        if (RequestTimeout <= TimeSpan.Zero || MonitorInterval <= TimeSpan.Zero || DiskUsageTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult(
                "Docker__RequestTimeout, Docker__DiskUsageTimeout and Docker__MonitorInterval must be positive.",
                [nameof(RequestTimeout), nameof(DiskUsageTimeout), nameof(MonitorInterval)]);
        }
    }
}
