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
    /// Reads a set's manifest and checks the archives of <paramref name="volumes"/> (hash, size and every tar
    /// entry), refusing with the reason before anything is touched.
    /// </summary>
    public async Task<BackupManifest> ValidateSetAsync(string folder, IReadOnlyList<string> volumes, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var setFolder = ResolveSetFolder(folder);
        var manifest = await ReadManifestAsync(setFolder, ct);
        foreach (var volume in ChooseVolumes(manifest, volumes))
        {
            progress?.Report(new BackupProgress("Verifying", volume.Name, 0, volume.TarBytes));
            await ValidateOrRefuseAsync(setFolder, manifest, volume, ct);
        }

        return manifest;
    }

    /// <summary>
    /// Replaces the content of <paramref name="volumes"/> with their archives in the set (validated again while
    /// streamed) and checks each result against the manifest. The caller has stopped every container using them.
    /// </summary>
    public async Task ReplaceStoppedVolumesAsync(
        string folder, BackupManifest manifest, IReadOnlyList<string> volumes, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var setFolder = ResolveSetFolder(folder);
        var targets = await ResolveStackVolumesAsync(volumes, ct);
        var image = HelperImageFor(targets);
        foreach (var volume in ChooseVolumes(manifest, targets))
        {
            await ReplaceVolumeContentAsync(setFolder, manifest, volume, image, progress, ct);
            BackupLog.VolumeRestored(logger, volume.Name, manifest.SetId);
        }
    }

    /// <summary>Deletes everything inside each volume (the factory state). The caller has stopped every container using them.</summary>
    public async Task EmptyStoppedVolumesAsync(IReadOnlyList<string> volumes, CancellationToken ct)
    {
        var targets = await ResolveStackVolumesAsync(volumes, ct);
        var image = HelperImageFor(targets);
        foreach (var volume in targets)
        {
            await EmptyVolumeAsync(volume, image, ct);
        }
    }
}
