using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>Settings of lab resets (section <c>Resets</c>).</summary>
public sealed class ResetOptions
{
    public const string Section = "Resets";

    /// <summary>The name of the built-in baseline that means empty volumes.</summary>
    public const string FactoryName = "factory";

    /// <summary>How long a reset waits for every service to become healthy before it fails, naming the late ones.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How often the health of the restarted services is read while waiting.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan HealthPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Grace period for each container to stop before it is killed (compose's default, too).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The baseline the reset dialog offers when none is marked default in the portal ("factory" or a name).</summary>
    public string DefaultBaseline { get; set; } = FactoryName;

    /// <summary>Whether the dialog ticks "take a safety backup first" (scheduled resets use their own setting).</summary>
    public bool SafetyBackupByDefault { get; set; } = true;
}
