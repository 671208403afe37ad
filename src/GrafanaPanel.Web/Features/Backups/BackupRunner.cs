using System.Diagnostics;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Backups.Volumes;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// The Docker-facing backup engine the jobs call: writing a set (<see cref="SetWriter"/>), restoring one in place
/// through the one volume replacement (<see cref="Replacer"/>, shared with resets) or into a new volume, and verifying
/// one. Its parts live in <c>Volumes/</c>; every volume name from a request is resolved against the stack first and
/// the portal's own volumes are refused.
/// </summary>
public sealed class BackupRunner : IBackupRunner
{
    /// <summary>Marks volumes the portal creates itself (scratch volumes of a test restore).</summary>
    public const string ScratchLabel = "grafana-panel.scratch";

    /// <summary>Set on a volume made by "restore into a new volume": the set it came from.</summary>
    public const string RestoredFromLabel = "grafana-panel.restored-from";

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    private readonly IDockerEngine _docker;
    private readonly StackLock _stackLock;
    private readonly BackupOptions _options;
    private readonly StackVolumes _stack;
    private readonly SetArchives _sets;
    private readonly VolumeContent _content;
    private readonly SetWriter _writer;

    public BackupRunner(
        IDockerEngine docker,
        StackSnapshot snapshot,
        StackLock stackLock,
        IOptions<BackupOptions> options,
        IOptions<StackOptions> stackOptions,
        TimeProvider time,
        ILogger<BackupRunner> logger,
        IRestoredVolumeCheck? restoredVolumeCheck = null,
        IBackupSetRecorder? recorder = null)
    {
        _docker = docker;
        _stackLock = stackLock;
        _options = options.Value;
        _stack = new StackVolumes(docker, snapshot, options, stackOptions);
        _sets = new SetArchives(options);
        var helpers = new HelperRuns(docker, logger);
        _content = new VolumeContent(docker, helpers, _stack, restoredVolumeCheck ?? new ManifestRestoredVolumeCheck(), logger);
        _writer = new SetWriter(docker, helpers, _stack, new ContainerInterruption(docker, _sets.BackupDirectory, time, logger), _options, time, logger);
        Replacer = new VolumeReplacer(docker, _stack, _sets, _content, _writer, recorder, time, logger);
    }

    /// <summary>The one way volumes are replaced in place (restores here, resets through <see cref="IVolumeReplacer"/>).</summary>
    public IVolumeReplacer Replacer { get; }

    public Task<BackupOutcome> BackupAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct) =>
        _writer.WriteAsync(request, progress, ct);

    public async Task<RestoreOutcome> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        _stack.RefuseWhileStale("restored");
        var folder = _sets.ResolveFolder(request.Folder);
        var manifest = await SetArchives.ReadManifestAsync(folder, ct);
        var chosen = SetArchives.Choose(manifest, request.Volumes);

        using var held = _stackLock.Acquire($"restore of set {manifest.SetId}");
        if (request.IntoNewVolume is { } newVolume)
        {
            if (chosen.Count != 1)
            {
                throw new BackupRefusedException("Restore into a new volume takes exactly one volume of the set.");
            }

            await _content.CheckNewVolumeNameAsync(newVolume, ct);
            var archive = await _sets.ValidateOrRefuseAsync(folder, manifest, chosen[0], ct);
            await _content.RestoreIntoNewVolumeAsync(archive, newVolume,
                new Dictionary<string, string> { [ContainerRecord.ProjectLabel] = _stack.Project, [RestoredFromLabel] = manifest.SetId.ToString("D") },
                progress, ct);
            return new RestoreOutcome([newVolume], null, stopwatch.Elapsed);
        }

        IReadOnlyList<string> names = [.. chosen.Select(v => v.Name)];
        var source = await Replacer.CheckAsync(folder, names, [], progress, ct);
        var outcome = await Replacer.ReplaceAsync(
            new VolumeReplacement(manifest.SetId, JournalOperation.Restore, $"Restoring {string.Join(", ", names)} from set {manifest.SetId}", source,
                names, [], _stack.ServicesUsing(names), StartEveryContainer: false,
                request.SafetyBackup ? new SafetyCopyRequest(BackupTrigger.PreRestore, request.RequestedBy) : null, StopGrace),
            steps: null, progress, ct);
        return new RestoreOutcome(names, outcome.SafetySetId, stopwatch.Elapsed);
    }

    /// <summary>
    /// Puts a safety backup back after the run that took it was cut off (recovery after a killed portal or a lost
    /// engine): every volume of the set is validated and its content replaced. Needs no stack snapshot (the helper image
    /// is the setting); the caller keeps the services stopped and starts them after. A volume labelled as the portal's
    /// is refused by the engine when its helper is created.
    /// </summary>
    public async Task RollBackAsync(string safetyFolder, CancellationToken ct)
    {
        var folder = _sets.ResolveFolder(safetyFolder);
        var manifest = await SetArchives.ReadManifestAsync(folder, ct);
        using var held = _stackLock.Acquire($"rollback to safety backup {manifest.SetId}");
        await Replacer.RollBackAsync(folder, ct);
    }

    public async Task<VerifyOutcome> VerifyAsync(string folder, bool testRestore, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var setFolder = _sets.ResolveFolder(folder);
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
                await _content.RestoreIntoNewVolumeAsync(archive, scratch,
                    new Dictionary<string, string> { [ContainerRecord.ProjectLabel] = _stack.Project, [ScratchLabel] = "true" }, progress, ct);
            }
            catch (Exception e) when (e is BackupRefusedException or ArchiveRejectedException or DockerOperationException or InvalidDataException)
            {
                problems.Add($"Test restore of {volume.Name}: {e.Message}");
            }
            finally
            {
                await _docker.RemoveVolumeAsync(scratch, CancellationToken.None);
            }
        }

        return problems.Count > 0
            ? new VerifyOutcome(false, string.Join(" ", problems), stopwatch.Elapsed)
            : new VerifyOutcome(true,
                $"All {manifest.Volumes.Count} archives verified and test-restored into scratch volumes; entries and sizes match the manifest.",
                stopwatch.Elapsed);
    }
}
