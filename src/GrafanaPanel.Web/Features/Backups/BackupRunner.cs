using System.Diagnostics;
using System.Globalization;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// The Docker-facing backup engine. Volumes are read through one helper container per set (created, never started,
/// each volume mounted read-only at <c>/v/&lt;name&gt;</c>, so every tar's root is the volume's name) and restored by
/// uploading the validated tar to <c>/v</c> of a helper with the target mounted at <c>/v/&lt;root&gt;</c>.
/// Every volume name from a request is resolved against the stack first; the portal's own volumes are refused.
/// </summary>
public sealed partial class BackupRunner(
    IDockerEngine docker,
    StackSnapshot snapshot,
    StackLock stackLock,
    IOptions<BackupOptions> options,
    IOptions<StackOptions> stackOptions,
    TimeProvider time,
    ILogger<BackupRunner> logger,
    IRestoredVolumeCheck? restoredVolumeCheck = null) : IBackupRunner
{
    /// <summary>Marks volumes the portal creates itself (scratch volumes of a test restore).</summary>
    public const string ScratchLabel = "grafana-panel.scratch";

    /// <summary>Set on a volume made by "restore into a new volume": the set it came from.</summary>
    public const string RestoredFromLabel = "grafana-panel.restored-from";

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan EmptyLimit = TimeSpan.FromMinutes(30);

    /// <summary>Where a restore moves a volume's old content (inside the volume) until the new content is in.</summary>
    public const string TrashPrefix = ".grafana-panel-replaced-";

    private readonly BackupOptions _options = options.Value;
    private readonly string _project = stackOptions.Value.ProjectName;
    private readonly IRestoredVolumeCheck _check = restoredVolumeCheck ?? new ManifestRestoredVolumeCheck();

    private string BackupDirectory => Path.GetFullPath(_options.Directory);

    public async Task<BackupOutcome> BackupAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        if (request.SetId == Guid.Empty || request.Volumes.Count == 0)
        {
            throw new BackupRefusedException("A backup needs a set id and at least one volume.");
        }

        var volumes = await ResolveStackVolumesAsync(request.Volumes, ct);
        var users = UsersOf(volumes);
        var image = HelperImage;
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
        Interruption? interruption = null;
        try
        {
            helper = await docker.CreateHelperContainerAsync(
                new HelperContainerSpec(_project, image, [.. volumes.Select(v => new HelperVolumeMount(v, "/v/" + v, ReadOnly: true))], ["true"]),
                ct);

            interruption = await InterruptAsync(request.SetId, InflightJournal.BackupOperation, folder, request.Mode, UsersInOrder(volumes), ct);

            var written = new List<ManifestVolume>();
            foreach (var volume in volumes)
            {
                var sizeHint = snapshot.Current.Volumes.FirstOrDefault(v => v.Name == volume)?.SizeBytes;
                progress?.Report(new BackupProgress("Reading", volume, 0, sizeHint));
                var archive = await ReadVolumeAsync(helper, volume, Path.Combine(folder, ArchiveCompressionStreams.ArchiveFileName(volume, request.Compression)),
                    request.Compression, p => progress?.Report(new BackupProgress("Reading", volume, p.TarBytes, sizeHint)), ct);
                if (archive.RootName != volume)
                {
                    throw new InvalidDataException($"The daemon's tar of {volume} has the root '{archive.RootName}' instead of the volume's name.");
                }

                // A set that could not be restored here is no backup: say so now, not at the restore.
                if (_options.Limits.Problem(archive.TarBytes, archive.CompressedBytes) is { } tooLarge)
                {
                    throw new BackupRefusedException(
                        $"Volume {volume} cannot be kept in a set this portal would restore: {tooLarge} Raise Backups__MaxTarBytes or " +
                        "Backups__MaxCompressionRatio if this volume is meant to be that large.");
                }

                BackupLog.VolumeWritten(logger, request.SetId, volume, archive.TarBytes, archive.CompressedBytes);
                var containers = users[volume];
                written.Add(ManifestVolume.FromArchive(volume, archive,
                    [.. containers.Select(c => c.Image).Distinct().Order(StringComparer.Ordinal)],
                    [.. containers.Select(c => c.Service ?? c.Name).Distinct().Order(StringComparer.Ordinal)]));
            }

            // Resume before the manifest: the containers wait for nothing more than the reads.
            await ResumeAsync(interruption);
            interruption = null;

            var manifest = new BackupManifest(request.SetId, startedAt, request.Trigger, request.Mode, request.Compression, written);
            await manifest.WriteAsync(folder, ct);
            progress?.Report(new BackupProgress("Done", null, written.Sum(v => v.TarBytes), written.Sum(v => v.TarBytes)));
            return new BackupOutcome(request.SetId, folder, manifest, stopwatch.Elapsed);
        }
        catch (Exception e)
        {
            // Nothing that looks complete may stay behind: the folder has no manifest yet, and its archives go too.
            TryDeleteFolder(folder);
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
                await ResumeAsync(interruption);
            }

            await RemoveHelperAsync(helper);
        }
    }

    public async Task<RestoreOutcome> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        RefuseWhileStale("restored");
        var image = HelperImage;
        var folder = ResolveSetFolder(request.Folder);
        var manifest = await ReadManifestAsync(folder, ct);
        var chosen = ChooseVolumes(manifest, request.Volumes);

        using var held = stackLock.Acquire($"restore of set {manifest.SetId}");
        if (request.IntoNewVolume is { } newVolume)
        {
            if (chosen.Count != 1)
            {
                throw new BackupRefusedException("Restore into a new volume takes exactly one volume of the set.");
            }

            await CheckNewVolumeNameAsync(newVolume, ct);
            var archive = await ValidateOrRefuseAsync(folder, manifest, chosen[0], ct);
            await RestoreIntoNewVolumeAsync(archive, newVolume,
                new Dictionary<string, string> { [ContainerRecord.ProjectLabel] = _project, [RestoredFromLabel] = manifest.SetId.ToString("D") },
                progress, ct);
            return new RestoreOutcome([newVolume], null, stopwatch.Elapsed);
        }

        var targets = await ResolveStackVolumesAsync([.. chosen.Select(v => v.Name)], ct);
        // Every archive is checked before anything is stopped or replaced: a corrupt set touches nothing.
        var archives = new List<ValidatedArchive>();
        foreach (var volume in chosen)
        {
            progress?.Report(new BackupProgress("Verifying", volume.Name, 0, volume.TarBytes));
            archives.Add(await ValidateOrRefuseAsync(folder, manifest, volume, ct));
        }

        // Room first: a volume the archive cannot fill is never stopped, let alone emptied.
        progress?.Report(new BackupProgress("Checking room", null, 0, null));
        await CheckRoomAsync(archives, image, ct);
        var users = UsersInOrder(targets);
        Interruption? interruption = null;
        BackupOutcome? safety = null;
        string? touching = null;
        try
        {
            progress?.Report(new BackupProgress("Stopping services", null, 0, null));
            interruption = await InterruptAsync(manifest.SetId, InflightJournal.RestoreOperation, folder, BackupMode.Stop, users, ct);
            if (request.SafetyBackup)
            {
                // The services are stopped already, so a hot copy is a consistent one.
                safety = await BackupAsync(new BackupRequest(Guid.NewGuid(), targets, BackupMode.Hot, ArchiveCompression.Zstd, BackupTrigger.PreRestore),
                    progress, ct);
                // From here on the volumes change: a portal killed now is rolled back to this set by recovery.
                await InflightJournal.SetSafetyFolderAsync(BackupDirectory, manifest.SetId, safety.Folder, ct);
            }

            foreach (var archive in archives)
            {
                touching = archive.Volume.Name;
                await ReplaceVolumeContentAsync(archive, image, progress, ct);
                BackupLog.VolumeRestored(logger, archive.Volume.Name, manifest.SetId);
            }

            touching = null;
            if (safety is not null)
            {
                await InflightJournal.SetSafetyFolderAsync(BackupDirectory, manifest.SetId, null, CancellationToken.None);
            }
        }
        catch (Exception e) when (touching is not null && safety is not null)
        {
            BackupLog.RollingBack(logger, e, manifest.SetId, touching, safety.SetId);
            try
            {
                foreach (var volume in safety.Manifest.Volumes)
                {
                    progress?.Report(new BackupProgress("Rolling back", volume.Name, 0, volume.TarBytes));
                    var archive = await ValidateOrRefuseAsync(safety.Folder, safety.Manifest, volume, CancellationToken.None);
                    await ReplaceVolumeContentAsync(archive, image, progress: null, CancellationToken.None);
                }
            }
            catch (Exception rollback)
            {
                BackupLog.RollbackFailed(logger, rollback, manifest.SetId, safety.Folder);
                throw new RestoreFailedException(
                    $"Restoring {touching} from set {manifest.SetId} failed ({e.Message}), and putting back the safety backup failed too " +
                    $"({rollback.Message}). The volumes may be incomplete; the safety backup is set {safety.SetId} in {safety.Folder}.",
                    rolledBack: false, new AggregateException(e, rollback));
            }

            throw new RestoreFailedException(
                $"Restoring {touching} from set {manifest.SetId} failed: {e.Message} Nothing was lost: the volumes were rolled back to " +
                $"the safety backup {safety.SetId} taken just before, and their services were started again.",
                rolledBack: true, e);
        }
        finally
        {
            if (interruption is not null)
            {
                progress?.Report(new BackupProgress("Starting services", null, 0, null));
                await ResumeAsync(interruption);
            }
        }

        return new RestoreOutcome([.. chosen.Select(v => v.Name)], safety?.SetId, stopwatch.Elapsed);
    }

    public async Task<VerifyOutcome> VerifyAsync(string folder, bool testRestore, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var setFolder = ResolveSetFolder(folder);
        BackupManifest manifest;
        try
        {
            manifest = await BackupManifest.ReadAsync(setFolder, ct);
        }
        catch (InvalidManifestException e)
        {
            return new VerifyOutcome(false, e.Message, stopwatch.Elapsed);
        }

        var problems = new List<string>();
        var corrupt = false;
        var archives = new List<ValidatedArchive>();
        foreach (var volume in manifest.Volumes)
        {
            progress?.Report(new BackupProgress("Verifying", volume.Name, 0, volume.TarBytes));
            try
            {
                archives.Add(await ArchiveVerifier.ValidateAsync(setFolder, manifest, volume, _options.Limits, ct));
            }
            catch (ArchiveRejectedException e)
            {
                problems.Add(e.Message);
                // A wrong hash or size or a broken tar; an archive that is gone is missing, which a rescan reports.
                corrupt |= File.Exists(Path.Combine(setFolder, volume.ArchiveFile));
            }
        }

        if (problems.Count > 0)
        {
            return new VerifyOutcome(false, string.Join(" ", problems), stopwatch.Elapsed, corrupt);
        }

        if (!testRestore)
        {
            return new VerifyOutcome(true, $"All {manifest.Volumes.Count} archives match their SHA-256 and hold safe, complete tars.", stopwatch.Elapsed);
        }

        foreach (var archive in archives)
        {
            var volume = archive.Volume;
            var scratch = $"gp-verify-{Guid.NewGuid():N}"[..22];
            progress?.Report(new BackupProgress("Test restore", volume.Name, 0, volume.TarBytes));
            try
            {
                await RestoreIntoNewVolumeAsync(archive, scratch,
                    new Dictionary<string, string> { [ContainerRecord.ProjectLabel] = _project, [ScratchLabel] = "true" }, progress, ct);
            }
            catch (Exception e) when (e is BackupRefusedException or ArchiveRejectedException or DockerOperationException or InvalidDataException)
            {
                problems.Add($"Test restore of {volume.Name}: {e.Message}");
            }
            finally
            {
                await docker.RemoveVolumeAsync(scratch, CancellationToken.None);
            }
        }

        return problems.Count > 0
            ? new VerifyOutcome(false, string.Join(" ", problems), stopwatch.Elapsed)
            : new VerifyOutcome(true,
                $"All {manifest.Volumes.Count} archives verified and test-restored into scratch volumes; entries and sizes match the manifest.",
                stopwatch.Elapsed);
    }

    /// <summary>
    /// Puts a restore's safety backup back after the restore was cut off (recovery after a killed portal or a lost
    /// engine): every volume of the set is validated and its content replaced. Needs no stack snapshot (the helper image
    /// is the setting); the caller keeps the services stopped and starts them after. A volume labelled as the portal's
    /// is refused by the engine when its helper is created.
    /// </summary>
    public async Task RollBackAsync(string safetyFolder, CancellationToken ct)
    {
        var folder = ResolveSetFolder(safetyFolder);
        var manifest = await ReadManifestAsync(folder, ct);
        using var held = stackLock.Acquire($"rollback to safety backup {manifest.SetId}");
        var archives = new List<ValidatedArchive>();
        foreach (var volume in manifest.Volumes)
        {
            archives.Add(await ValidateOrRefuseAsync(folder, manifest, volume, ct));
        }

        // The image is the setting, never one the manifest names (a set may come from anywhere).
        var image = HelperImage;
        foreach (var archive in archives)
        {
            await ReplaceVolumeContentAsync(archive, image, progress: null, ct);
            BackupLog.VolumeRestored(logger, archive.Volume.Name, manifest.SetId);
        }
    }

    /// <summary>
    /// Replaces what <paramref name="archive"/>'s volume holds with the archive's content and checks the result.
    /// The old content is first moved aside into a folder inside the volume (renames only), the tar is uploaded, and
    /// then the old content is deleted. Moving instead of deleting first keeps the old files until the new ones are
    /// in (an upload that fails leaves them in the volume, under <see cref="TrashPrefix"/>, for the rollback or by
    /// hand), and on ext4 without a journal it keeps the upload fast: creating files within a minute of deleting as
    /// many makes the kernel check every recently deleted inode for each new file.
    /// </summary>
    private async Task ReplaceVolumeContentAsync(ValidatedArchive archive, string image, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var volume = archive.Volume.Name;
        var trash = $"{TrashPrefix}{Guid.NewGuid():N}";
        progress?.Report(new BackupProgress("Moving old content aside", volume, 0, archive.Volume.TarBytes));
        // Keeping the old content needs room for the new beside it: the tar's bytes plus a block per entry.
        var room = archive.Volume.TarBytes + (archive.Volume.EntryCount * 4096L);
        var exit = await RunVolumeCommandAsync(volume, image, "moving the old content aside", root => ["sh", "-c", MoveAsideScript, $"{root}/{trash}", root,
            room.ToString(CultureInfo.InvariantCulture), archive.Volume.TarBytes.ToString(CultureInfo.InvariantCulture)], ct, NotEnoughRoomToKeep, NoRoomAtAll);
        if (exit == NoRoomAtAll)
        {
            throw new BackupRefusedException(
                $"Volume {volume} was left as it was: Docker's volume storage has no room for the {archive.Volume.TarBytes:N0} bytes of the archive " +
                "even once the volume is emptied.");
        }

        if (exit == NotEnoughRoomToKeep)
        {
            // The script emptied the volume instead; nothing is kept, and the safety backup (when taken) covers it.
            BackupLog.EmptiedForLackOfRoom(logger, volume, room);
            await UploadAsync(archive, volume, image, progress, ct);
            await ListAndCheckAsync(archive, volume, image, progress, ct);
            return;
        }

        var deleting = false;
        try
        {
            await UploadAsync(archive, volume, image, progress, ct);
            // The old content is deleted and the new one listed side by side (the listing skips the old).
            progress?.Report(new BackupProgress("Deleting old content and checking", volume, archive.Volume.TarBytes, archive.Volume.TarBytes));
            deleting = true;
            var delete = RunVolumeCommandAsync(volume, image, "deleting the old content", root => ["rm", "-rf", "--", $"{root}/{trash}"], ct);
            var listing = ListVolumeAsync(volume, image, trash, ct);
            await Task.WhenAll(delete, listing);
            Check(archive, await listing);
        }
        catch (Exception e) when (!deleting && e is not (OperationCanceledException or DockerUnavailableException))
        {
            throw new OldContentKeptException(volume, trash, e);
        }
    }

    /// <summary>The move-aside script's exit code when the disk lacks room to keep the old content: it emptied the volume.</summary>
    internal const int NotEnoughRoomToKeep = 10;

    /// <summary>The move-aside script's exit code when even an emptied volume could not hold the new content: it touched nothing.</summary>
    internal const int NoRoomAtAll = 11;

    /// <summary>
    /// $0 the trash folder, $1 the volume's mount, $2 the bytes the new content needs beside the old, $3 (optional)
    /// the least it needs at all (the tar's size). With room for both, every entry at the top of the volume is renamed
    /// into the trash folder (batched; earlier leftovers move in too). Without, when the free space and what the old
    /// content takes (du) are less than $3, nothing is touched and the script exits with <see cref="NoRoomAtAll"/>;
    /// else the volume is emptied and the script exits with <see cref="NotEnoughRoomToKeep"/>.
    /// </summary>
    internal const string MoveAsideScript = """
        set -e
        free=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
        if [ "$((free * 1024))" -gt "$2" ]; then
          mkdir -- "$0"
          find "$1" -mindepth 1 -maxdepth 1 ! -path "$0" -exec sh -c 'mv -- "$@" "$0"' "$0" {} +
        else
          if [ -n "$3" ]; then
            used=$(du -sk "$1" 2>/dev/null | awk '{ print $1 }')
            if [ "$(( (free + ${used:-0}) * 1024 ))" -lt "$3" ]; then
              exit 11
            fi
          fi
          find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
          exit 10
        fi
        """;

    /// <summary>
    /// $1 $2, $3 $4, …: a volume's mount and the bytes its new content needs at least. Prints, per volume, the mount,
    /// the free bytes of Docker's volume storage there, and (only when the free bytes are not enough) the bytes the
    /// volume's current content takes, which emptying it would give back; else "-".
    /// </summary>
    internal const string RoomScript = """
        while [ "$#" -ge 2 ]; do
          free=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
          if [ "$((free * 1024))" -ge "$2" ]; then
            used=-
          else
            used=$(du -sk "$1" 2>/dev/null | awk '{ print $1 * 1024 }')
          fi
          echo "$1 $((free * 1024)) $used"
          shift 2
        done
        """;

    /// <summary>
    /// Refuses, naming the numbers, when Docker's volume storage cannot hold an archive's content in its volume even
    /// once the volume is emptied: read by one helper (each volume mounted read-only) before anything is stopped.
    /// </summary>
    private async Task CheckRoomAsync(IReadOnlyList<ValidatedArchive> archives, string image, CancellationToken ct)
    {
        if (archives.Count == 0)
        {
            return;
        }

        var needs = archives.ToDictionary(a => "/v/" + a.Volume.Name, a => a.Volume, StringComparer.Ordinal);
        var helper = await docker.CreateHelperContainerAsync(
            new HelperContainerSpec(_project, image, [.. archives.Select(a => new HelperVolumeMount(a.Volume.Name, "/v/" + a.Volume.Name, ReadOnly: true))],
                ["sh", "-c", RoomScript, "room", .. archives.SelectMany(a => new[] { "/v/" + a.Volume.Name, a.Volume.TarBytes.ToString(CultureInfo.InvariantCulture) })],
                // du reads folders of other users as root does by default; the mounts are read-only.
                AllowDeletingAnyFile: true), ct);
        var lines = new List<string>();
        try
        {
            await docker.StartContainerAsync(helper, ct);
            var exit = await docker.WaitContainerAsync(helper, EmptyLimit, ct);
            await foreach (var line in docker.ReadLogsAsync(helper, tail: -1, follow: false, ct))
            {
                if (line.Stream == LogStream.Stdout)
                {
                    lines.Add(line.Text.Trim());
                }
            }

            if (exit != 0)
            {
                throw new DockerOperationException($"Checking the room for the restore failed: the helper exited with {exit} (does image {image} have df, du and awk?).");
            }
        }
        finally
        {
            await RemoveHelperAsync(helper);
        }

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

    /// <summary>Refuses a name that is not a Docker volume name or a volume that exists already, before anything is read.</summary>
    private async Task CheckNewVolumeNameAsync(string newVolume, CancellationToken ct)
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

    private async Task RestoreIntoNewVolumeAsync(
        ValidatedArchive archive, string newVolume, IReadOnlyDictionary<string, string> labels, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        await CheckNewVolumeNameAsync(newVolume, ct);
        var image = HelperImage;
        await docker.CreateVolumeAsync(newVolume, labels, ct);
        try
        {
            await UploadAsync(archive, newVolume, image, progress, ct);
            await ListAndCheckAsync(archive, newVolume, image, progress, ct);
        }
        catch
        {
            await docker.RemoveVolumeAsync(newVolume, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Uploads the validated tar into <paramref name="targetVolume"/>, mounted where the tar's root folder goes.</summary>
    private async Task UploadAsync(ValidatedArchive archive, string targetVolume, string image, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var volume = archive.Volume;
        var helper = await docker.CreateHelperContainerAsync(
            new HelperContainerSpec(_project, image, [new HelperVolumeMount(targetVolume, "/v/" + volume.RootName, ReadOnly: false)], ["true"]), ct);
        try
        {
            progress?.Report(new BackupProgress("Writing", targetVolume, 0, volume.TarBytes));
            await using var tar = archive.OpenTar(bytes => progress?.Report(new BackupProgress("Writing", targetVolume, bytes, volume.TarBytes)));
            await docker.PutArchiveAsync(helper, "/v", tar, ct);
            // The upload may stop reading at the tar's end marker; reading on re-hashes the rest of the file.
            await tar.CopyToAsync(Stream.Null, ct);
        }
        finally
        {
            await RemoveHelperAsync(helper);
        }
    }

    /// <summary>Lists <paramref name="volume"/> (nothing left out) and compares it with the archive.</summary>
    private async Task ListAndCheckAsync(ValidatedArchive archive, string volume, string image, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        progress?.Report(new BackupProgress("Checking", volume, archive.Volume.TarBytes, archive.Volume.TarBytes));
        Check(archive, await ListVolumeAsync(volume, image, skip: null, ct));
    }

    private void Check(ValidatedArchive archive, VolumeListing listing)
    {
        if (_check.Compare(archive, listing) is { } problem)
        {
            throw new InvalidDataException($"The restored content does not match the backup: {problem}");
        }
    }

    /// <summary>
    /// $1 the volume's mount, $2 a folder in it to leave out (or empty). Prints the number of entries (the top folder
    /// included) and the bytes of regular files, each inode once; the listing needs no file's content. What find or
    /// stat write to stderr (an entry it could not read) fails the check.
    /// </summary>
    internal const string ListingScript = """
        if [ -n "$2" ]; then
          find "$1" -path "$2" -prune -o -exec stat -c '%i %s %F' {} +
        else
          find "$1" -exec stat -c '%i %s %F' {} +
        fi | awk '{ n++ } $3 == "regular" && !seen[$1]++ { bytes += $2 } END { printf "%d %.0f\n", n, bytes }'
        """;

    /// <summary>
    /// The listing's stderr lines that mean it missed something. The folder left out is being deleted beside the
    /// listing, so find may read its name and then not find it; a complaint about that folder is no problem.
    /// </summary>
    internal static IEnumerable<string> ListingErrors(IEnumerable<string> stderr, string? skipped) =>
        stderr.Select(line => line.Trim())
            .Where(line => line.Length > 0 && (skipped is null || !line.Contains(skipped, StringComparison.Ordinal)));

    /// <summary>Lists what <paramref name="volume"/> holds (a read-only mount), leaving out the folder <paramref name="skip"/>.</summary>
    private async Task<VolumeListing> ListVolumeAsync(string volume, string image, string? skip, CancellationToken ct)
    {
        var root = "/v/" + volume;
        var helper = await docker.CreateHelperContainerAsync(
            new HelperContainerSpec(_project, image, [new HelperVolumeMount(volume, root, ReadOnly: true)],
                ["sh", "-c", ListingScript, "list", root, skip is null ? "" : $"{root}/{skip}"],
                // Reading folders of other users needs what root has by default; the mount is read-only.
                AllowDeletingAnyFile: true), ct);
        try
        {
            await docker.StartContainerAsync(helper, ct);
            var exit = await docker.WaitContainerAsync(helper, EmptyLimit, ct);
            var output = new List<LogLine>();
            await foreach (var line in docker.ReadLogsAsync(helper, tail: -1, follow: false, ct))
            {
                output.Add(line);
            }

            var errors = string.Join(" ", ListingErrors(output.Where(l => l.Stream == LogStream.Stderr).Select(l => l.Text),
                skip is null ? null : $"{root}/{skip}").Take(5));
            var last = output.LastOrDefault(l => l.Stream == LogStream.Stdout)?.Text.Trim().Split(' ');
            if (exit != 0 || errors.Length > 0 || last is not [var entries, var bytes]
                || !long.TryParse(entries, NumberStyles.None, CultureInfo.InvariantCulture, out var entryCount)
                || !long.TryParse(bytes, NumberStyles.None, CultureInfo.InvariantCulture, out var fileBytes))
            {
                throw new DockerOperationException(
                    $"Volume {volume}: listing the restored content failed (exit {exit}{(errors.Length > 0 ? $": {errors}" : "")}; " +
                    $"does image {image} have find, stat and awk?).");
            }

            return new VolumeListing(entryCount, fileBytes);
        }
        finally
        {
            await RemoveHelperAsync(helper);
        }
    }

    /// <summary>Deletes everything inside the volume (not the volume itself, which stopped containers still reference).</summary>
    private Task EmptyVolumeAsync(string volume, string image, CancellationToken ct) =>
        // Not -delete: Debian's busybox find lacks it; -exec rm -rf {} + works with GNU and busybox alike.
        RunVolumeCommandAsync(volume, image, "emptying the volume",
            root => ["find", root, "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf", "{}", "+"], ct);

    /// <summary>
    /// Runs a fixed command of ours in a started helper that mounts only <paramref name="volume"/> (at the path the
    /// command gets) and may delete any file in it; a non-zero exit fails with what was being done.
    /// </summary>
    private async Task<long> RunVolumeCommandAsync(
        string volume, string image, string doing, Func<string, IReadOnlyList<string>> command, CancellationToken ct, int? alsoFine = null,
        int? alsoFine2 = null)
    {
        var root = "/v/" + volume;
        var helper = await docker.CreateHelperContainerAsync(
            new HelperContainerSpec(_project, image, [new HelperVolumeMount(volume, root, ReadOnly: false)], command(root), AllowDeletingAnyFile: true), ct);
        try
        {
            await docker.StartContainerAsync(helper, ct);
            var exit = await docker.WaitContainerAsync(helper, EmptyLimit, ct);
            if (exit != 0 && exit != alsoFine && exit != alsoFine2)
            {
                throw new DockerOperationException(
                    $"Volume {volume}: {doing} failed: the helper exited with {exit} (does image {image} have sh, find, mv, rm, df and awk?).");
            }

            return exit;
        }
        finally
        {
            await RemoveHelperAsync(helper);
        }
    }

    private async Task<ArchiveWriteResult> ReadVolumeAsync(
        string helper, string volume, string path, ArchiveCompression compression, Action<ArchiveProgress> onProgress, CancellationToken ct)
    {
        await using var tar = await docker.GetArchiveAsync(helper, "/v/" + volume, ct);
        return await ArchiveWriter.WriteAsync(tar, path,
            new ArchiveWriteOptions { Compression = compression, Progress = new SyncProgress<ArchiveProgress>(onProgress) }, ct);
    }

    private async Task<ValidatedArchive> ValidateOrRefuseAsync(string folder, BackupManifest manifest, ManifestVolume volume, CancellationToken ct)
    {
        try
        {
            return await ArchiveVerifier.ValidateAsync(folder, manifest, volume, _options.Limits, ct);
        }
        catch (ArchiveRejectedException e)
        {
            throw new BackupRefusedException($"Nothing was restored: the archive of {volume.Name} was refused. {e.Message}", e);
        }
    }

    /// <summary>
    /// Each name must be a volume of the stack (mounted by one of its containers, or labelled with its project) and not
    /// one of the portal's own. Names are compared, never passed on, until they are known.
    /// </summary>
    private async Task<IReadOnlyList<string>> ResolveStackVolumesAsync(IReadOnlyList<string> requested, CancellationToken ct)
    {
        var containers = StackContainers();
        var portal = containers.Where(c => c.IsPortal).SelectMany(c => c.Mounts).Select(m => m.VolumeName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var known = containers.SelectMany(c => c.Mounts).Select(m => m.VolumeName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (requested.Any(v => !known.Contains(v)))
        {
            known.UnionWith((await docker.ListVolumesAsync(_project, ct)).Select(v => v.Name));
        }

        var resolved = new List<string>();
        foreach (var name in requested)
        {
            if (portal.Contains(name))
            {
                throw new BackupRefusedException(
                    $"Volume {UnsafeArchiveException.Display(name)} belongs to the portal itself; its own data is never part of a lab backup or restore.");
            }

            if (!known.Contains(name))
            {
                throw new BackupRefusedException($"Volume {UnsafeArchiveException.Display(name)} is not a volume of stack {_project}; nothing was touched.");
            }

            if (!resolved.Contains(name, StringComparer.Ordinal))
            {
                resolved.Add(name);
            }
        }

        // The labels as the engine holds them now, whatever the snapshot says (the engine checks again at every helper).
        foreach (var name in resolved)
        {
            var live = await docker.InspectVolumeAsync(name, ct)
                ?? throw new BackupRefusedException($"Volume {name} does not exist in the Docker engine; nothing was touched.");
            if (PortalVolumeRefusedException.ProblemOf(live.Labels) is { } problem)
            {
                throw new BackupRefusedException($"Volume {name} was not touched: {problem}");
            }
        }

        return resolved;
    }

    private List<ContainerRecord> StackContainers() =>
        // In dependency order (compose's depends_on), so starts go dependencies first and stops the other way round.
        [.. StackControl.DependencyOrder(snapshot.Current.Services).SelectMany(s => s.Containers).Where(c => !c.Labels.ContainsKey(HelperContainerBody.HelperLabel))];

    /// <summary>The lab containers that mount each volume (any state).</summary>
    private Dictionary<string, List<ContainerRecord>> UsersOf(IReadOnlyList<string> volumes)
    {
        var containers = StackContainers();
        return volumes.ToDictionary(v => v, v => containers.Where(c => !c.IsPortal && c.Mounts.Any(m => m.VolumeName == v)).ToList(), StringComparer.Ordinal);
    }

    /// <summary>The lab containers that mount any of the volumes, in dependency order across all of them (not per volume:
    /// a set's volumes come in any order, and a dependency may use another volume than its dependent).</summary>
    private List<ContainerRecord> UsersInOrder(IReadOnlyList<string> volumes) =>
        [.. StackContainers().Where(c => !c.IsPortal && c.Mounts.Any(m => m.VolumeName is { } name && volumes.Contains(name, StringComparer.Ordinal)))];

    /// <summary>The helper image: always the setting, never an image a manifest or a container names.</summary>
    private string HelperImage => !string.IsNullOrWhiteSpace(_options.HelperImage)
        ? _options.HelperImage
        : throw new BackupRefusedException("Backups__HelperImage is not set, so no helper container can be made; nothing was touched. " +
            "Set it to the portal's own image (compose and scripts/run-portal.sh do).");

    /// <summary>A restore or reset acts on what the engine shows; while the snapshot is stale that is not known.</summary>
    private void RefuseWhileStale(string what)
    {
        if (snapshot.Current.StaleReason is { } stale)
        {
            throw new BackupRefusedException(
                $"Nothing was {what}: the stack's state is not known right now ({stale}). Try again once the Docker engine has been read.");
        }
    }

    private void CheckFreeSpace(IReadOnlyList<string> volumes)
    {
        Directory.CreateDirectory(BackupDirectory);
        var sizes = volumes.Select(v => snapshot.Current.Volumes.FirstOrDefault(m => m.Name == v)?.SizeBytes).ToList();
        var estimate = sizes.Sum(s => s ?? 0);
        var needed = estimate + _options.FreeSpaceMarginBytes;
        var free = new DriveInfo(BackupDirectory).AvailableFreeSpace;
        if (free < needed)
        {
            var unknown = sizes.Count(s => s is null);
            throw new BackupRefusedException(
                $"Not enough room in {BackupDirectory}: {free:N0} bytes free, but the volumes measured {estimate:N0} bytes" +
                (unknown > 0 ? $" ({unknown} not measured yet)" : "") +
                $" and {_options.FreeSpaceMarginBytes:N0} bytes must stay free, so {needed:N0} bytes are needed. Nothing was touched.");
        }
    }

    private string ResolveSetFolder(string folder)
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

    private static async Task<BackupManifest> ReadManifestAsync(string folder, CancellationToken ct)
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

    private static List<ManifestVolume> ChooseVolumes(BackupManifest manifest, IReadOnlyList<string>? names)
    {
        if (names is null || names.Count == 0)
        {
            return [.. manifest.Volumes];
        }

        return [.. names.Distinct(StringComparer.Ordinal).Select(n => manifest.FindVolume(n)
            ?? throw new BackupRefusedException($"Set {manifest.SetId} holds no volume {UnsafeArchiveException.Display(n)}."))];
    }

    /// <summary>Journals, then pauses or stops the running containers; the journal lets recovery undo it after a crash.</summary>
    private async Task<Interruption?> InterruptAsync(
        Guid setId, JournalOperation operation, string folder, BackupMode mode, IEnumerable<ContainerRecord> users, CancellationToken ct)
    {
        if (mode == BackupMode.Hot)
        {
            return null;
        }

        var running = new List<string>();
        foreach (var user in users)
        {
            var live = await docker.InspectContainerAsync(user.Id, ct);
            if (live?.State == ContainerState.Running)
            {
                running.Add(live.Id);
            }
        }

        // A restore is journaled even when nothing runs: its journal also leads recovery to the safety backup.
        if (running.Count == 0 && operation != InflightJournal.RestoreOperation)
        {
            return null;
        }

        var interruption = new Interruption(setId, operation, mode);
        var journal = new InflightJournal(setId, operation, folder,
            mode == BackupMode.Pause ? running : [], mode == BackupMode.Stop ? running : [], time.GetUtcNow());
        await journal.WriteAsync(BackupDirectory, ct);
        interruption.Journaled = true;
        try
        {
            // Dependents first: a service is never left running without what it depends on.
            foreach (var id in Enumerable.Reverse(running))
            {
                if (mode == BackupMode.Pause)
                {
                    await docker.PauseContainerAsync(id, ct);
                }
                else
                {
                    await docker.StopContainerAsync(id, StopGrace, ct);
                }

                interruption.Done.Add(id);
            }
        }
        catch
        {
            await ResumeAsync(interruption);
            throw;
        }

        return interruption;
    }

    /// <summary>Unpauses or starts what was interrupted, never cancelled; deletes the journal only when all run again.</summary>
    private async Task ResumeAsync(Interruption? interruption)
    {
        if (interruption is null || interruption.Resumed)
        {
            return;
        }

        interruption.Resumed = true;
        var failed = false;
        // The reverse of the interruption: dependencies first, as compose starts them.
        foreach (var id in Enumerable.Reverse(interruption.Done))
        {
            try
            {
                if (interruption.Mode == BackupMode.Pause)
                {
                    await docker.UnpauseContainerAsync(id, CancellationToken.None);
                }
                else
                {
                    await docker.StartContainerAsync(id, CancellationToken.None);
                }
            }
            catch (Exception e) when (e is DockerUnavailableException or DockerOperationException or DockerNotFoundException)
            {
                failed = true;
                BackupLog.ResumeFailed(logger, e, id, Data.Vocabulary.Name(interruption.Operation), interruption.SetId);
            }
        }

        if (interruption.Journaled)
        {
            // A journal kept (something could not be resumed) goes to the recovery service, which resumes its
            // containers once the engine answers again.
            InflightJournal.Release(BackupDirectory, interruption.SetId, delete: !failed);
        }
    }

    private async Task RemoveHelperAsync(string? helper)
    {
        if (helper is null)
        {
            return;
        }

        try
        {
            await docker.RemoveContainerAsync(helper, CancellationToken.None);
        }
        catch (Exception e) when (e is DockerUnavailableException or DockerOperationException)
        {
            BackupLog.HelperNotRemoved(logger, e, helper);
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

    private sealed class Interruption(Guid setId, JournalOperation operation, BackupMode mode)
    {
        public Guid SetId { get; } = setId;

        public JournalOperation Operation { get; } = operation;

        public BackupMode Mode { get; } = mode;

        public List<string> Done { get; } = [];

        public bool Journaled { get; set; }

        public bool Resumed { get; set; }
    }
}
