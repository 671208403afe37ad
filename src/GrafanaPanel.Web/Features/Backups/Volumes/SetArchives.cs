using GrafanaPanel.Web.Features.Backups.Archive;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>A set's manifest and the archives of the volumes that passed their check, ready to upload.</summary>
public sealed record CheckedSet(string Folder, BackupManifest Manifest, IReadOnlyList<CheckedArchive> Archives)
{
    public CheckedArchive? ArchiveOf(string volume) => Archives.FirstOrDefault(a => a.Volume.Name == volume);
}

/// <summary>
/// Reading a set from the backup directory for a restore: its folder (only a set folder of the directory), its
/// manifest, and its archives checked before anything is touched; every refusal says that nothing was restored.
/// </summary>
public sealed class SetArchives(IOptions<BackupOptions> options)
{
    public string BackupDirectory => Path.GetFullPath(options.Value.Directory);

    /// <summary>The full path of a set folder named by a request or a journal; anything else is refused.</summary>
    public string ResolveFolder(string folder)
    {
        var root = BackupDirectory;
        var full = Path.GetFullPath(Path.IsPathRooted(folder) ? folder : Path.Combine(root, folder));
        if (!string.Equals(Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar)), root.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal)
            || Path.GetFileName(full).StartsWith('.'))
        {
            throw new BackupRefusedException($"'{UnsafeArchiveException.Display(folder)}' is not a set folder of the backup directory {root}.");
        }

        return full;
    }

    public static async Task<BackupManifest> ReadManifestAsync(string folder, CancellationToken ct)
    {
        try
        {
            return await BackupManifest.ReadAsync(folder, ct);
        }
        catch (InvalidManifestException e)
        {
            throw new BackupRefusedException($"Nothing was restored: {e.Message}", e);
        }
    }

    /// <summary>The named volumes of the set (all of them when none is named); a name the set lacks is refused.</summary>
    public static List<ManifestVolume> Choose(BackupManifest manifest, IReadOnlyList<string>? names)
    {
        if (names is null || names.Count == 0)
        {
            return [.. manifest.Volumes];
        }

        return [.. names.Distinct(StringComparer.Ordinal).Select(n => manifest.FindVolume(n)
            ?? throw new BackupRefusedException($"Set {manifest.SetId} holds no volume {UnsafeArchiveException.Display(n)}."))];
    }

    /// <summary>
    /// Reads a set's manifest and checks the archives of <paramref name="volumes"/> (all when none is named), refusing
    /// with the reason before anything is touched: size and SHA-256 only (<see cref="ArchiveVerifier.CheckAsync"/>; the
    /// tar is validated as it is uploaded), or with <paramref name="walkTars"/> every tar entry too.
    /// </summary>
    public async Task<CheckedSet> CheckAsync(
        string folder, IReadOnlyList<string>? volumes, bool walkTars, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var setFolder = ResolveFolder(folder);
        var manifest = await ReadManifestAsync(setFolder, ct);
        var archives = new List<CheckedArchive>();
        foreach (var volume in Choose(manifest, volumes))
        {
            progress?.Report(new BackupProgress("Verifying", volume.Name, 0, volume.TarBytes));
            archives.Add(walkTars
                ? await ValidateOrRefuseAsync(setFolder, manifest, volume, ct)
                : await RefuseUnlessAsync(volume, () => ArchiveVerifier.CheckAsync(setFolder, manifest, volume, options.Value.Limits, ct)));
        }

        return new CheckedSet(setFolder, manifest, archives);
    }

    /// <summary>Size, hash and every tar entry of one archive (nothing written), refusing with the reason.</summary>
    public Task<ValidatedArchive> ValidateOrRefuseAsync(string folder, BackupManifest manifest, ManifestVolume volume, CancellationToken ct) =>
        RefuseUnlessAsync(volume, () => ArchiveVerifier.ValidateAsync(folder, manifest, volume, options.Value.Limits, ct));

    private static async Task<T> RefuseUnlessAsync<T>(ManifestVolume volume, Func<Task<T>> check)
    {
        try
        {
            return await check();
        }
        catch (ArchiveRejectedException e)
        {
            throw new BackupRefusedException($"Nothing was restored: the archive of {volume.Name} was refused. {e.Message}", e);
        }
    }
}
