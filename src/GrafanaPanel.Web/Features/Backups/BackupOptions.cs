using System.ComponentModel.DataAnnotations;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>Where backups live, how helper containers are made and how large an archive may be (section <c>Backups</c>).</summary>
public sealed class BackupOptions
{
    public const string Section = "Backups";

    /// <summary>The image compose builds for the portal (<c>grafana-panel:${PANEL_IMAGE_TAG:-local}</c>).</summary>
    public const string DefaultHelperImage = "grafana-panel:local";

    /// <summary>One folder per set; in compose a volume of the portal's own (never a lab volume).</summary>
    [Required(ErrorMessage = "Backups__Directory is required: the folder where backup sets are written.")]
    public string Directory { get; set; } = "/backups";

    /// <summary>
    /// Image for the portal's helper containers (created with only stack volumes mounted, never started for a plain
    /// read). Always this setting: never an image a manifest or a container names. Compose and scripts/run-portal.sh
    /// set it to the portal's own image.
    /// </summary>
    [Required(AllowEmptyStrings = false,
        ErrorMessage = "Backups__HelperImage is required: the image of the helper containers that read and fill volumes (e.g. the portal's own image).")]
    public string HelperImage { get; set; } = DefaultHelperImage;

    /// <summary>Room left free on the backup disk beyond the expected size of a new set.</summary>
    public long FreeSpaceMarginBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// How often the portal looks for journals of backups or restores that could not resume their containers (the
    /// Docker engine was gone) and resumes them once the engine answers again.
    /// </summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The largest uncompressed tar of one volume that is written, imported or restored (default 200 GiB).</summary>
    [Range(1L, long.MaxValue, ErrorMessage = "Backups__MaxTarBytes must be a positive number of bytes.")]
    public long MaxTarBytes { get; set; } = ArchiveLimits.DefaultMaxTarBytes;

    /// <summary>
    /// How many times its compressed size one volume's tar may be (default 1000): a compression bomb is refused.
    /// Not applied below <see cref="ArchiveLimits.RatioFreeBytes"/> of tar.
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "Backups__MaxCompressionRatio must be between 1 and 1000000.")]
    public int MaxCompressionRatio { get; set; } = ArchiveLimits.DefaultMaxCompressionRatio;

    /// <summary>How long an import's validation (hash and every tar entry of every archive) may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00", ErrorMessage = "Backups__ImportValidationTimeout must be between 1 ms and 1 day.")]
    public TimeSpan ImportValidationTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public ArchiveLimits Limits => new(MaxTarBytes, MaxCompressionRatio);
}
