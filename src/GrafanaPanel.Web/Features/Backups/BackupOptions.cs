using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>Where backups live and how helper containers are made (section <c>Backups</c>).</summary>
public sealed class BackupOptions
{
    public const string Section = "Backups";

    /// <summary>One folder per set; in compose a volume of the portal's own (never a lab volume).</summary>
    [Required(ErrorMessage = "Backups__Directory is required: the folder where backup sets are written.")]
    public string Directory { get; set; } = "/backups";

    /// <summary>
    /// Image for the portal's helper containers (created with only stack volumes mounted, never started for a plain
    /// read). Empty: the image of the portal's own container, or of a container that uses the volume.
    /// </summary>
    public string HelperImage { get; set; } = "";

    /// <summary>Room left free on the backup disk beyond the expected size of a new set.</summary>
    public long FreeSpaceMarginBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// How often the portal looks for journals of backups or restores that could not resume their containers (the
    /// Docker engine was gone) and resumes them once the engine answers again.
    /// </summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(15);
}
