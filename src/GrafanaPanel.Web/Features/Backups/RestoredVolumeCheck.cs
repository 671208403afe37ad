using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// The last step of a restore: what the volume holds now (its tar as the daemon reads it back) against what the
/// manifest recorded. Returns null when they agree, otherwise the problem. An interface so tests can make this step
/// fail and watch the rollback.
/// </summary>
public interface IRestoredVolumeCheck
{
    string? Compare(ManifestVolume expected, TarSummary actual);
}

/// <summary>
/// Entry count and tar size must match the manifest exactly. The tar size covers every header (names, modes, owners,
/// times, link targets) and every file's length; the content itself was checked by the archive's SHA-256 before the
/// upload, so a byte-for-byte re-hash of the volume would only repeat that.
/// </summary>
public sealed class ManifestRestoredVolumeCheck : IRestoredVolumeCheck
{
    public string? Compare(ManifestVolume expected, TarSummary actual) =>
        actual.EntryCount == expected.EntryCount && actual.TarBytes == expected.TarBytes
            ? null
            : $"volume {expected.Name} now holds {actual.EntryCount} entries in {actual.TarBytes} tar bytes, " +
              $"but the backup recorded {expected.EntryCount} entries in {expected.TarBytes} bytes.";
}
