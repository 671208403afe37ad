using System.Diagnostics;
using System.Globalization;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;
using GrafanaPanel.Web.Telemetry;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>
/// Writes a backup set: the volumes are read through one helper container (created, never started, each volume
/// mounted read-only at <c>/v/&lt;name&gt;</c>, so every tar's root is the volume's name), each tar compressed into the
/// set folder and hashed, and the manifest written last. A set that fails leaves nothing behind.
/// </summary>
public sealed class SetWriter(
    IDockerEngine docker, HelperRuns helpers, StackVolumes stack, ContainerInterruption interruptions, BackupOptions options, TimeProvider time, ILogger logger)
{
    private string BackupDirectory => Path.GetFullPath(options.Directory);

    public async Task<BackupOutcome> WriteAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        using var step = PanelStep.Start("backup write set").Tag("backup.set_id", request.SetId.ToString()).Tag("backup.mode", request.Mode.ToString());
        var stopwatch = Stopwatch.StartNew();
        if (request.SetId == Guid.Empty || request.Volumes.Count == 0)
        {
            throw new BackupRefusedException("A backup needs a set id and at least one volume.");
        }

        var volumes = await stack.ResolveAsync(request.Volumes, ct);
        var users = stack.UsersOf(volumes);
        var image = stack.HelperImage;
        CheckFreeSpace(volumes);

        var startedAt = time.GetUtcNow();
        var folder = Path.Combine(BackupDirectory,
            $"{startedAt.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{request.SetId.ToString("N")[..8]}");
        if (Directory.Exists(folder))
        {
            throw new BackupRefusedException($"The set folder {folder} exists already; a set is never written twice.");
        }

        Directory.CreateDirectory(folder);
        string? helper = null;
        ContainerInterruption.Interruption? interruption = null;
        try
        {
            helper = await docker.CreateHelperContainerAsync(
                new HelperContainerSpec(stack.Project, image, [.. volumes.Select(v => new HelperVolumeMount(v, "/v/" + v, ReadOnly: true))], ["true"]),
                ct);

            interruption = await interruptions.InterruptAsync(request.SetId, InflightJournal.BackupOperation, folder, request.Mode, stack.UsersInOrder(volumes), ct);

            var written = new List<ManifestVolume>();
            foreach (var volume in volumes)
            {
                using var volumeStep = PanelStep.Start("backup read volume", volume);
                var sizeHint = stack.Current.Volumes.FirstOrDefault(v => v.Name == volume)?.SizeBytes;
                progress?.Report(new BackupProgress("Reading", volume, 0, sizeHint));
                var archive = await ReadVolumeAsync(helper, volume, Path.Combine(folder, ArchiveCompressionStreams.ArchiveFileName(volume, request.Compression)),
                    request.Compression, p => progress?.Report(new BackupProgress("Reading", volume, p.TarBytes, sizeHint)), ct);
                if (archive.RootName != volume)
                {
                    throw new InvalidDataException($"The daemon's tar of {volume} has the root '{archive.RootName}' instead of the volume's name.");
                }

                // A set that could not be restored here is no backup: say so now, not at the restore.
                if (options.Limits.Problem(archive.TarBytes, archive.CompressedBytes) is { } tooLarge)
                {
                    throw new BackupRefusedException(
                        $"Volume {volume} cannot be kept in a set this portal would restore: {tooLarge} Raise Backups__MaxTarBytes or " +
                        "Backups__MaxCompressionRatio if this volume is meant to be that large.");
                }

                BackupLog.VolumeWritten(logger, request.SetId, volume, archive.TarBytes, archive.CompressedBytes);
                volumeStep.Tag("tar_bytes", archive.TarBytes).Done(archive.CompressedBytes);
                var containers = users[volume];
                written.Add(ManifestVolume.FromArchive(volume, archive,
                    [.. containers.Select(c => c.Image).Distinct().Order(StringComparer.Ordinal)],
                    [.. containers.Select(c => c.Service ?? c.Name).Distinct().Order(StringComparer.Ordinal)]));
            }

            // Resume before the manifest: the containers wait for nothing more than the reads.
            await interruptions.ResumeAsync(interruption);
            interruption = null;

            var manifest = new BackupManifest(request.SetId, startedAt, request.Trigger, request.Mode, request.Compression, written);
            await manifest.WriteAsync(folder, ct);
            progress?.Report(new BackupProgress("Done", null, written.Sum(v => v.TarBytes), written.Sum(v => v.TarBytes)));
            step.Done(written.Sum(v => v.CompressedBytes));
            return new BackupOutcome(request.SetId, folder, manifest, stopwatch.Elapsed);
        }
        catch (Exception e)
        {
            // Nothing that looks complete may stay behind: the folder has no manifest yet, and its archives go too.
            TryDeleteFolder(folder);
            step.Failed(e);
            BackupLog.BackupFailed(logger, e, request.SetId, folder);
            if (IsDiskFull(e))
            {
                throw new IOException(
                    $"The backup disk is full: no space was left in {BackupDirectory} while set {request.SetId} was written. " +
                    $"The unfinished set was removed ({new DriveInfo(BackupDirectory).AvailableFreeSpace:N0} bytes are free again); " +
                    "free some space or point Backups__Directory at a larger disk, then start the backup again.", e);
            }

            throw;
        }
        finally
        {
            if (interruption is not null)
            {
                await interruptions.ResumeAsync(interruption);
            }

            await helpers.RemoveAsync(helper);
        }
    }

    private async Task<ArchiveWriteResult> ReadVolumeAsync(
        string helper, string volume, string path, ArchiveCompression compression, Action<ArchiveProgress> onProgress, CancellationToken ct)
    {
        await using var tar = await docker.GetArchiveAsync(helper, "/v/" + volume, ct);
        return await ArchiveWriter.WriteAsync(tar, path,
            new ArchiveWriteOptions { Compression = compression, Progress = new SyncProgress<ArchiveProgress>(onProgress) }, ct);
    }

    private void CheckFreeSpace(IReadOnlyList<string> volumes)
    {
        Directory.CreateDirectory(BackupDirectory);
        var sizes = volumes.Select(v => stack.Current.Volumes.FirstOrDefault(m => m.Name == v)?.SizeBytes).ToList();
        var estimate = sizes.Sum(s => s ?? 0);
        var needed = estimate + options.FreeSpaceMarginBytes;
        var free = new DriveInfo(BackupDirectory).AvailableFreeSpace;
        if (free < needed)
        {
            var unknown = sizes.Count(s => s is null);
            throw new BackupRefusedException(
                $"Not enough room in {BackupDirectory}: {free:N0} bytes free, but the volumes measured {estimate:N0} bytes" +
                (unknown > 0 ? $" ({unknown} not measured yet)" : "") +
                $" and {options.FreeSpaceMarginBytes:N0} bytes must stay free, so {needed:N0} bytes are needed. Nothing was touched.");
        }
    }

    /// <summary>ENOSPC (28 on Linux), which .NET reports as the IOException's HResult, possibly wrapped by a stream.</summary>
    private static bool IsDiskFull(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is IOException { HResult: 28 })
            {
                return true;
            }
        }

        return false;
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a manifest the folder does not look complete; a rescan flags it, and recovery deletes it.
        }
    }
}
