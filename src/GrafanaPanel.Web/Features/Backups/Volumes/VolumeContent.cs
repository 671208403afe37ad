using System.Globalization;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Telemetry;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>
/// What is inside a volume: replacing it with a validated archive's content (old content moved aside first), emptying
/// it, filling a new volume, and listing it to compare with the archive. Every volume reached here was resolved
/// against the stack by the caller; each step runs in its own helper container that mounts only that volume.
/// </summary>
public sealed class VolumeContent(IDockerEngine docker, HelperRuns helpers, StackVolumes stack, IRestoredVolumeCheck check, ILogger logger)
{
    /// <summary>Where a restore moves a volume's old content (inside the volume) until the new content is in.</summary>
    public const string TrashPrefix = ".grafana-panel-replaced-";

    /// <summary>
    /// Replaces what <paramref name="archive"/>'s volume holds with the archive's content and checks the result.
    /// The old content is first moved aside into a folder inside the volume (renames only), the tar is uploaded and
    /// validated in the same read (<see cref="ArchiveUpload"/>), and then the old content is deleted. Moving instead of
    /// deleting first keeps the old files until the new ones are in: an upload that fails or is refused has what it
    /// wrote removed and the old content put back (<see cref="OldContentPutBackException"/>; when even that fails, it
    /// stays under <see cref="TrashPrefix"/>, <see cref="OldContentKeptException"/>). On ext4 without a journal it also
    /// keeps the upload fast: creating files within a minute of deleting as many makes the kernel check every recently
    /// deleted inode for each new file. With <paramref name="oldContentIsCopied"/> (a complete safety copy exists, and
    /// the caller puts it back on a failure) the old content is deleted while the upload runs.
    /// </summary>
    public async Task ReplaceAsync(CheckedArchive archive, bool oldContentIsCopied, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var volume = archive.Volume.Name;
        using var step = PanelStep.Start("volume replace content", volume);
        var image = stack.HelperImage;
        var trash = $"{TrashPrefix}{Guid.NewGuid():N}";
        progress?.Report(new BackupProgress("Moving old content aside", volume, 0, archive.Volume.TarBytes));
        // Keeping the old content needs room for the new beside it: the tar's bytes plus a block per entry.
        var room = archive.Volume.TarBytes + (archive.Volume.EntryCount * 4096L);
        var exit = await RunInVolumeAsync(volume, image, "moving the old content aside", root => ["sh", "-c", VolumeScripts.MoveAside, $"{root}/{trash}", root,
            room.ToString(CultureInfo.InvariantCulture), archive.Volume.TarBytes.ToString(CultureInfo.InvariantCulture)], ct,
            VolumeScripts.NotEnoughRoomToKeep, VolumeScripts.NoRoomAtAll);
        if (exit == VolumeScripts.NoRoomAtAll)
        {
            throw new BackupRefusedException(
                $"Volume {volume} was left as it was: Docker's volume storage has no room for the {archive.Volume.TarBytes:N0} bytes of the archive " +
                "even once the volume is emptied.");
        }

        if (exit == VolumeScripts.NotEnoughRoomToKeep)
        {
            // The script emptied the volume instead; nothing is kept, and the safety backup (when taken) covers it.
            BackupLog.EmptiedForLackOfRoom(logger, volume, room);
            ValidatedArchive uploaded;
            try
            {
                uploaded = await UploadAsync(archive, volume, image, progress, ct);
            }
            catch (Exception e) when (e is not DockerUnavailableException)
            {
                // Nothing old to put back; what the upload wrote (an unsafe entry, maybe) is not left in the volume.
                // Should that fail too, the upload's failure is still the one reported (and a safety copy is put back).
                await Task.WhenAny(EmptyAsync(volume, CancellationToken.None));
                throw;
            }

            await ListAndCheckAsync(uploaded, volume, image, progress, ct);
            step.Tag("volume.emptied_for_room", true).Done(archive.Volume.TarBytes);
            return;
        }

        var deleting = oldContentIsCopied ? DeleteAsync(volume, image, trash, ct) : null;
        ValidatedArchive validated;
        try
        {
            validated = await UploadAsync(archive, volume, image, progress, ct);
        }
        catch (Exception e) when (e is not DockerUnavailableException)
        {
            if (deleting is not null)
            {
                // The caller puts the safety copy back; the deletion must be over before that moves the volume's content.
                try
                {
                    await deleting;
                }
                catch (Exception)
                {
                    // The upload's failure is the one reported; the rollback moves whatever is left aside.
                }

                throw;
            }

            await PutOldContentBackAsync(volume, image, trash, e);
            throw;
        }

        // The old content is deleted (or its deletion finished) and the new one listed side by side (the listing skips the old).
        progress?.Report(new BackupProgress("Deleting old content and checking", volume, archive.Volume.TarBytes, archive.Volume.TarBytes));
        deleting ??= DeleteAsync(volume, image, trash, ct);
        var listing = ListAsync(volume, image, trash, ct);
        await Task.WhenAll(deleting, listing);
        Check(validated, await listing);
        step.Done(archive.Volume.TarBytes);
    }

    private Task<long> DeleteAsync(string volume, string image, string trash, CancellationToken ct) =>
        RunInVolumeAsync(volume, image, "deleting the old content", root => ["rm", "-rf", "--", $"{root}/{trash}"], ct);

    /// <summary>
    /// After a failed upload: removes what it wrote and moves the old content back out of <paramref name="trash"/>,
    /// whatever the failure (a cancelled restore too), then throws <see cref="OldContentPutBackException"/> (or rethrows
    /// a cancellation); when that fails too, <see cref="OldContentKeptException"/> names where the old content is.
    /// </summary>
    private async Task PutOldContentBackAsync(string volume, string image, string trash, Exception failure)
    {
        try
        {
            await RunInVolumeAsync(volume, image, "putting the old content back", root => ["sh", "-c", VolumeScripts.PutBack, $"{root}/{trash}", root],
                CancellationToken.None);
        }
        catch (Exception e) when (e is DockerOperationException or DockerUnavailableException or DockerNotFoundException)
        {
            BackupLog.PutBackFailed(logger, e, volume, trash);
            throw new OldContentKeptException(volume, trash, failure);
        }

        if (failure is not OperationCanceledException)
        {
            throw new OldContentPutBackException(volume, failure);
        }
    }

    /// <summary>Deletes everything inside the volume (not the volume itself, which stopped containers still reference).</summary>
    public async Task EmptyAsync(string volume, CancellationToken ct)
    {
        using var step = PanelStep.Start("volume empty", volume);
        // Not -delete: Debian's busybox find lacks it; -exec rm -rf {} + works with GNU and busybox alike.
        await RunInVolumeAsync(volume, stack.HelperImage, "emptying the volume",
            root => ["find", root, "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf", "{}", "+"], ct);
        step.Done();
    }

    /// <summary>Refuses a name that is not a Docker volume name or a volume that exists already, before anything is read.</summary>
    public async Task CheckNewVolumeNameAsync(string newVolume, CancellationToken ct)
    {
        if (!HelperContainerBody.IsVolumeName(newVolume))
        {
            throw new BackupRefusedException($"'{newVolume}' is not a Docker volume name (letters, digits, '_', '.', '-'; at least two characters).");
        }

        if (await docker.VolumeExistsAsync(newVolume, ct))
        {
            throw new BackupRefusedException($"Volume {newVolume} exists already; restore into a new volume never writes into an existing one.");
        }
    }

    /// <summary>Creates <paramref name="newVolume"/> with the labels and fills it from the archive; removed again on any failure.</summary>
    public async Task RestoreIntoNewVolumeAsync(
        CheckedArchive archive, string newVolume, IReadOnlyDictionary<string, string> labels, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        using var step = PanelStep.Start("volume restore into new", newVolume).Tag("volume.source", archive.Volume.Name);
        await CheckNewVolumeNameAsync(newVolume, ct);
        var image = stack.HelperImage;
        await docker.CreateVolumeAsync(newVolume, labels, ct);
        try
        {
            await ListAndCheckAsync(await UploadAsync(archive, newVolume, image, progress, ct), newVolume, image, progress, ct);
            step.Done(archive.Volume.TarBytes);
            JobRun.MovedBytes(archive.Volume.TarBytes);
        }
        catch
        {
            await docker.RemoveVolumeAsync(newVolume, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Refuses, naming the numbers, when Docker's volume storage cannot hold an archive's content in its volume even
    /// once the volume is emptied: read by one helper (each volume mounted read-only) before anything is stopped.
    /// </summary>
    public async Task CheckRoomAsync(IReadOnlyList<ManifestVolume> volumes, CancellationToken ct)
    {
        if (volumes.Count == 0)
        {
            return;
        }

        var image = stack.HelperImage;
        var needs = volumes.ToDictionary(v => "/v/" + v.Name, v => v, StringComparer.Ordinal);
        var run = await helpers.RunAsync(
            new HelperContainerSpec(stack.Project, image, [.. volumes.Select(v => new HelperVolumeMount(v.Name, "/v/" + v.Name, ReadOnly: true))],
                ["sh", "-c", VolumeScripts.Room, "room", .. volumes.SelectMany(v => new[] { "/v/" + v.Name, v.TarBytes.ToString(CultureInfo.InvariantCulture) })],
                // du reads folders of other users as root does by default; the mounts are read-only.
                AllowDeletingAnyFile: true), readOutput: true, ct);
        if (run.ExitCode != 0)
        {
            throw new DockerOperationException($"Checking the room for the restore failed: the helper exited with {run.ExitCode} (does image {image} have df, du and awk?).");
        }

        var lines = run.Stdout.Select(l => l.Trim()).ToList();
        var problems = new List<string>();
        foreach (var (mount, volume) in needs)
        {
            var parts = lines.FirstOrDefault(l => l.StartsWith(mount + " ", StringComparison.Ordinal))?.Split(' ');
            if (parts is not [_, var freeText, var usedText] || !long.TryParse(freeText, NumberStyles.None, CultureInfo.InvariantCulture, out var free))
            {
                throw new DockerOperationException($"Checking the room for {volume.Name} gave no answer the portal could read ({string.Join(" | ", lines)}).");
            }

            var used = long.TryParse(usedText, NumberStyles.None, CultureInfo.InvariantCulture, out var u) ? u : 0;
            if (free < volume.TarBytes && free + used < volume.TarBytes)
            {
                problems.Add($"Volume {volume.Name} needs at least {volume.TarBytes:N0} bytes (the archive's tar), but Docker's volume storage has " +
                    $"{free:N0} bytes free there and the volume's current content takes {used:N0} bytes, {free + used:N0} bytes in all.");
            }
        }

        if (problems.Count > 0)
        {
            throw new BackupRefusedException(
                $"Nothing was restored, stopped or emptied: {string.Join(" ", problems)} Free space where Docker keeps its volumes, then try again.");
        }
    }

    /// <summary>
    /// The listing's stderr lines that mean it missed something. The folder left out is being deleted beside the
    /// listing, so find may read its name and then not find it; a complaint about that folder is no problem.
    /// </summary>
    internal static IEnumerable<string> ListingErrors(IEnumerable<string> stderr, string? skipped) =>
        stderr.Select(line => line.Trim())
            .Where(line => line.Length > 0 && (skipped is null || !line.Contains(skipped, StringComparison.Ordinal)));

    /// <summary>
    /// Uploads the checked tar into <paramref name="targetVolume"/>, mounted where the tar's root folder goes, checking
    /// every entry and the counts as it goes (<see cref="ArchiveUpload"/>); returns what the upload held.
    /// </summary>
    private async Task<ValidatedArchive> UploadAsync(CheckedArchive archive, string targetVolume, string image, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var volume = archive.Volume;
        var helper = await docker.CreateHelperContainerAsync(
            new HelperContainerSpec(stack.Project, image, [new HelperVolumeMount(targetVolume, "/v/" + volume.RootName, ReadOnly: false)], ["true"]), ct);
        try
        {
            progress?.Report(new BackupProgress("Writing", targetVolume, 0, volume.TarBytes));
            return await ArchiveUpload.UploadAsync(archive, (tar, token) => docker.PutArchiveAsync(helper, "/v", tar, token),
                bytes => progress?.Report(new BackupProgress("Writing", targetVolume, bytes, volume.TarBytes)), ct);
        }
        finally
        {
            await helpers.RemoveAsync(helper);
        }
    }

    /// <summary>Lists <paramref name="volume"/> (nothing left out) and compares it with the archive.</summary>
    private async Task ListAndCheckAsync(ValidatedArchive archive, string volume, string image, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        progress?.Report(new BackupProgress("Checking", volume, archive.Volume.TarBytes, archive.Volume.TarBytes));
        Check(archive, await ListAsync(volume, image, skip: null, ct));
    }

    private void Check(ValidatedArchive archive, VolumeListing listing)
    {
        if (check.Compare(archive, listing) is { } problem)
        {
            throw new InvalidDataException($"The restored content does not match the backup: {problem}");
        }
    }

    /// <summary>Lists what <paramref name="volume"/> holds (a read-only mount), leaving out the folder <paramref name="skip"/>.</summary>
    private async Task<VolumeListing> ListAsync(string volume, string image, string? skip, CancellationToken ct)
    {
        var root = "/v/" + volume;
        var run = await helpers.RunAsync(
            new HelperContainerSpec(stack.Project, image, [new HelperVolumeMount(volume, root, ReadOnly: true)],
                ["sh", "-c", VolumeScripts.Listing, "list", root, skip is null ? "" : $"{root}/{skip}"],
                // Reading folders of other users needs what root has by default; the mount is read-only.
                AllowDeletingAnyFile: true), readOutput: true, ct);
        var errors = string.Join(" ", ListingErrors(run.Stderr, skip is null ? null : $"{root}/{skip}").Take(5));
        var last = run.Stdout.LastOrDefault()?.Trim().Split(' ');
        if (run.ExitCode != 0 || errors.Length > 0 || last is not [var entries, var bytes]
            || !long.TryParse(entries, NumberStyles.None, CultureInfo.InvariantCulture, out var entryCount)
            || !long.TryParse(bytes, NumberStyles.None, CultureInfo.InvariantCulture, out var fileBytes))
        {
            throw new DockerOperationException(
                $"Volume {volume}: listing the restored content failed (exit {run.ExitCode}{(errors.Length > 0 ? $": {errors}" : "")}; " +
                $"does image {image} have find, stat and awk?).");
        }

        return new VolumeListing(entryCount, fileBytes);
    }

    /// <summary>
    /// Runs a fixed command of ours in a started helper that mounts only <paramref name="volume"/> (at the path the
    /// command gets) and may delete any file in it; a non-zero exit other than <paramref name="alsoFine"/> fails with
    /// what was being done.
    /// </summary>
    private async Task<long> RunInVolumeAsync(
        string volume, string image, string doing, Func<string, IReadOnlyList<string>> command, CancellationToken ct, params int[] alsoFine)
    {
        var root = "/v/" + volume;
        var run = await helpers.RunAsync(
            new HelperContainerSpec(stack.Project, image, [new HelperVolumeMount(volume, root, ReadOnly: false)], command(root), AllowDeletingAnyFile: true),
            readOutput: false, ct);
        if (run.ExitCode != 0 && !alsoFine.Contains((int)run.ExitCode))
        {
            throw new DockerOperationException(
                $"Volume {volume}: {doing} failed: the helper exited with {run.ExitCode} (does image {image} have sh, find, mv, rm, df and awk?).");
        }

        return run.ExitCode;
    }
}
