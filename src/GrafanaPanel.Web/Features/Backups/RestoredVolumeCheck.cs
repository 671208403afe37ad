using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>What a restored volume holds, as a helper lists it: every entry (the volume's top folder included) and
/// the bytes of its regular files, each file once however many hard links it has.</summary>
public sealed record VolumeListing(long Entries, long FileBytes);

/// <summary>
/// The last step of a restore: what the volume holds now against what the validated archive holds (whose entry
/// count and tar size the manifest recorded). Returns null when they agree, otherwise the problem. An interface so
/// tests can make this step fail and watch the rollback.
/// </summary>
public interface IRestoredVolumeCheck
{
    string? Compare(ValidatedArchive expected, VolumeListing actual);
}

/// <summary>
/// The number of entries and the bytes of regular files must be exactly the archive's. The content itself was
/// checked by the archive's SHA-256 before the upload and again as it was read for it, so re-reading every file
/// through the daemon would only repeat that; the listing catches an entry the daemon skipped or a file it cut short.
/// </summary>
public sealed class ManifestRestoredVolumeCheck : IRestoredVolumeCheck
{
    public string? Compare(ValidatedArchive expected, VolumeListing actual) =>
        actual.Entries == expected.Summary.EntryCount && actual.FileBytes == expected.Summary.FileBytes
            ? null
            : $"volume {expected.Volume.Name} now holds {actual.Entries} entries with {actual.FileBytes} bytes of files, " +
              $"but the backup holds {expected.Summary.EntryCount} entries with {expected.Summary.FileBytes} bytes.";
}
