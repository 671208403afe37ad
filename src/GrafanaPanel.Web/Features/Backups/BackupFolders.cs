using GrafanaPanel.Web.Features.Backups.Archive;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// Paths under the backup directory, built only from names stored in the catalog or a manifest (each one a plain
/// folder or file name), never from a request; and the catalog rows a manifest describes.
/// </summary>
public sealed class BackupFolders(IOptions<BackupOptions> options)
{
    public string Root => Path.GetFullPath(options.Value.Directory);

    /// <summary>The set folder's full path; refuses a name that is not one plain folder name.</summary>
    public string SetPath(string folder) => Path.Combine(Root, RequirePlain(folder));

    public string ArchivePath(string folder, string fileName) => Path.Combine(SetPath(folder), RequirePlain(fileName));

    public static bool IsPlain(string name) =>
        name.Length is > 0 and <= 255 && name is not "." and not ".." && name.IndexOfAny(['/', '\\', '\0', '\n', '\r']) < 0;

    private static string RequirePlain(string name) =>
        IsPlain(name) ? name : throw new ArgumentException($"'{name}' is not a plain file or folder name.", nameof(name));

    /// <summary>Deletes a set's folder (and nothing else); a missing folder is fine.</summary>
    public void DeleteSet(string folder)
    {
        var path = SetPath(folder);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>The trigger a set's manifest records: the catalog's own baseline and import are written as manual.</summary>
    public static BackupTrigger ManifestTrigger(BackupTrigger trigger) =>
        trigger is BackupTrigger.Baseline or BackupTrigger.Import ? BackupTrigger.Manual : trigger;

    public static string CompressionName(ArchiveCompression compression) => compression == ArchiveCompression.Gzip ? "gzip" : "zstd";

    public static ArchiveCompression CompressionOf(string name) => name == "gzip" ? ArchiveCompression.Gzip : ArchiveCompression.Zstd;

    /// <summary>Copies what a manifest says about its archives into the set's volume rows.</summary>
    public static void ApplyManifest(BackupSet set, BackupManifest manifest)
    {
        set.Volumes.Clear();
        set.Volumes.AddRange(manifest.Volumes.Select(v => new BackupSetVolume
        {
            SetId = set.Id,
            VolumeName = v.Name,
            FileName = v.ArchiveFile,
            Sha256 = v.Sha256,
            CompressedBytes = v.CompressedBytes,
            UncompressedBytes = v.TarBytes,
            Entries = v.EntryCount,
        }));
        set.CompressedBytes = manifest.Volumes.Sum(v => v.CompressedBytes);
        set.UncompressedBytes = manifest.Volumes.Sum(v => v.TarBytes);
        set.Compression = CompressionName(manifest.Compression);
    }

    /// <summary>A catalog row for a set found on disk (rescan or upload).</summary>
    public static BackupSet FromManifest(BackupManifest manifest, string folder, BackupTrigger trigger, string createdBy)
    {
        var set = new BackupSet
        {
            Id = manifest.SetId,
            CreatedAt = manifest.CreatedAt,
            CompletedAt = manifest.CreatedAt,
            Trigger = trigger,
            CreatedBy = createdBy,
            Mode = manifest.Mode,
            Status = BackupSetStatus.Completed,
            Folder = folder,
        };
        ApplyManifest(set, manifest);
        return set;
    }
}
