using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// The pieces a lab reset puts together itself: it holds the stack lock, stops and starts the services and takes
/// its own safety backup, so these never touch a container or the lock.
/// </summary>
public sealed partial class BackupRunner
{
    /// <summary>The named volumes, each checked to be a volume of the stack and not one of the portal's own.</summary>
    public Task<IReadOnlyList<string>> ResolveVolumesAsync(IReadOnlyList<string> names, CancellationToken ct) =>
        ResolveStackVolumesAsync(names, ct);

    /// <summary>
    /// Before a reset stops anything: the snapshot is fresh, every volume it replaces is a volume of the stack and
    /// not labelled as the portal's (read from the engine now), and each archive of <paramref name="set"/> fits its
    /// volume once emptied. Refuses with the reason and the numbers.
    /// </summary>
    public async Task CheckBeforeResetAsync(IReadOnlyList<string> replaced, ValidatedSet? set, CancellationToken ct)
    {
        RefuseWhileStale("reset");
        var image = HelperImage;
        await ResolveStackVolumesAsync(replaced, ct);
        if (set is not null)
        {
            await CheckRoomAsync([.. set.Archives.Where(a => replaced.Contains(a.Volume.Name, StringComparer.Ordinal))], image, ct);
        }
    }

    /// <summary>
    /// Reads a set's manifest and checks the archives of <paramref name="volumes"/> (size, hash and every tar
    /// entry), refusing with the reason before anything is touched. What it returns opens those archives for upload.
    /// </summary>
    public async Task<ValidatedSet> ValidateSetAsync(string folder, IReadOnlyList<string> volumes, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var setFolder = ResolveSetFolder(folder);
        var manifest = await ReadManifestAsync(setFolder, ct);
        var archives = new List<ValidatedArchive>();
        foreach (var volume in ChooseVolumes(manifest, volumes))
        {
            progress?.Report(new BackupProgress("Verifying", volume.Name, 0, volume.TarBytes));
            archives.Add(await ValidateOrRefuseAsync(setFolder, manifest, volume, ct));
        }

        return new ValidatedSet(manifest, archives);
    }

    /// <summary>
    /// Replaces the content of <paramref name="volumes"/> (each validated in <paramref name="set"/>) with their
    /// archives and checks each result against the manifest. The caller has stopped every container using them.
    /// </summary>
    public async Task ReplaceStoppedVolumesAsync(ValidatedSet set, IReadOnlyList<string> volumes, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var targets = await ResolveStackVolumesAsync(volumes, ct);
        var image = HelperImage;
        foreach (var name in targets)
        {
            var archive = set.Archives.FirstOrDefault(a => a.Volume.Name == name)
                ?? throw new BackupRefusedException($"Volume {name} was not validated in set {set.Manifest.SetId}; nothing was replaced.");
            await ReplaceVolumeContentAsync(archive, image, progress, ct);
            BackupLog.VolumeRestored(logger, name, set.Manifest.SetId);
        }
    }

    /// <summary>Deletes everything inside each volume (the factory state). The caller has stopped every container using them.</summary>
    public async Task EmptyStoppedVolumesAsync(IReadOnlyList<string> volumes, CancellationToken ct)
    {
        var targets = await ResolveStackVolumesAsync(volumes, ct);
        var image = HelperImage;
        foreach (var volume in targets)
        {
            await EmptyVolumeAsync(volume, image, ct);
        }
    }
}

/// <summary>A set's manifest and the archives of the volumes that passed validation, ready to upload.</summary>
public sealed record ValidatedSet(BackupManifest Manifest, IReadOnlyList<ValidatedArchive> Archives);
