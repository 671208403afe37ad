using System.Diagnostics;
using System.Runtime.ExceptionServices;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Telemetry;
using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <inheritdoc cref="IVolumeReplacer"/>
public sealed class VolumeReplacer(
    IDockerEngine docker, StackVolumes stack, SetArchives sets, VolumeContent content, SetWriter writer, IBackupSetRecorder? recorder,
    TimeProvider time, ILogger logger) : IVolumeReplacer
{
    public async Task<CheckedSet?> CheckAsync(
        string? setFolder, IReadOnlyList<string> restore, IReadOnlyList<string> empty, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        stack.RefuseWhileStale(restore.Count > 0 ? "restored" : "reset");
        if (restore.Count == 0)
        {
            await stack.ResolveAsync(empty, ct);
            return null;
        }

        var folder = sets.ResolveFolder(setFolder ?? throw new ArgumentNullException(nameof(setFolder)));
        var volumes = SetArchives.Choose(await SetArchives.ReadManifestAsync(folder, ct), restore);
        // Every archive's size and SHA-256 are checked before anything is stopped or replaced: a corrupt set touches
        // nothing. Its tar entries are checked as they are uploaded, in the same read. Beside the hashing, read-only:
        // the volumes are resolved and the room is checked, so that a volume the archive cannot fill is never stopped,
        // let alone emptied. When both refuse, the archive's refusal is the one reported.
        var hashing = sets.CheckAsync(folder, restore, walkTars: false, progress, ct);
        var room = ResolveAndCheckRoomAsync([.. restore, .. empty], volumes, progress, ct);
        try
        {
            await Task.WhenAll(hashing, room);
        }
        catch (Exception) when (hashing.IsFaulted)
        {
            await hashing;
        }

        return await hashing;
    }

    private async Task ResolveAndCheckRoomAsync(
        IReadOnlyList<string> replaced, IReadOnlyList<ManifestVolume> restored, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        await stack.ResolveAsync(replaced, ct);
        progress?.Report(new BackupProgress("Checking room", null, 0, null));
        await content.CheckRoomAsync(restored, ct);
    }

    public async Task<ReplacementOutcome> ReplaceAsync(
        VolumeReplacement replacement, IReplacementSteps? steps, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        steps ??= new ProgressSteps(progress);
        using var step = PanelStep.Start("volumes replace").Tag("replacement.operation", replacement.Operation.ToString())
            .Tag("replacement.volumes", string.Join(",", replacement.Replaced));
        var replaced = await stack.ResolveAsync(replacement.Replaced, ct);
        var stopped = await ContainersToStopAsync(replacement, ct);
        var journal = new InflightJournal(replacement.OperationId, replacement.Operation, replacement.Source?.Folder ?? "", [], stopped, time.GetUtcNow());
        await journal.WriteAsync(sets.BackupDirectory, ct);
        var started = false;
        try
        {
            using (var stopping = PanelStep.Start("volumes stop services").Tag("containers", stopped.Count))
            {
                await StopAsync(replacement, stopped, steps, ct);
                stopping.Done();
            }

            var safety = replacement.SafetyCopy is { } copy && replaced.Count > 0 ? await SafetyCopyAsync(replacement, replaced, copy, steps, progress, ct) : null;
            await ReplaceAllAsync(replacement, safety, steps, progress, ct);
            if (safety is not null)
            {
                await InflightJournal.SetSafetyFolderAsync(sets.BackupDirectory, replacement.OperationId, null, CancellationToken.None);
            }

            using (var starting = PanelStep.Start("volumes start services").Tag("containers", stopped.Count))
            {
                await StartAsync(replacement, stopped, steps, ct);
                starting.Done();
            }

            started = true;
            InflightJournal.Release(sets.BackupDirectory, replacement.OperationId, delete: true);
            var bytes = replacement.Source is { } source ? replacement.Restore.Sum(v => source.ArchiveOf(v)?.Volume.TarBytes ?? 0) : 0;
            step.Tag("replacement.safety_set_id", safety?.SetId.ToString()).Done(bytes);
            JobRun.MovedBytes(bytes);
            return new ReplacementOutcome(safety?.SetId, safety?.Folder);
        }
        finally
        {
            if (!started)
            {
                await StartAfterFailureAsync(replacement, stopped, steps);
            }
        }
    }

    public async Task RollBackAsync(string safetyFolder, CancellationToken ct)
    {
        // The image is the setting, never one the manifest names (a set may come from anywhere).
        var safety = await sets.CheckAsync(safetyFolder, null, walkTars: true, null, ct);
        foreach (var archive in safety.Archives)
        {
            await content.ReplaceAsync(archive, oldContentIsCopied: false, progress: null, ct);
            BackupLog.VolumeRestored(logger, archive.Volume.Name, safety.Manifest.SetId);
        }
    }

    /// <summary>The containers the journal names: every one in scope for a reset, the running ones for a restore.</summary>
    private async Task<List<string>> ContainersToStopAsync(VolumeReplacement replacement, CancellationToken ct)
    {
        var ids = new List<string>();
        foreach (var container in replacement.Services.SelectMany(s => s.Containers))
        {
            if (replacement.StartEveryContainer || (await docker.InspectContainerAsync(container.Id, ct))?.State == ContainerState.Running)
            {
                ids.Add(container.Id);
            }
        }

        return ids;
    }

    /// <summary>Dependents first, a level at a time, the containers of one level together.</summary>
    private async Task StopAsync(VolumeReplacement replacement, IReadOnlyList<string> stopped, IReplacementSteps steps, CancellationToken ct)
    {
        foreach (var level in Enumerable.Reverse(StackControl.DependencyLevels(replacement.Services)))
        {
            await InParallelAsync(level, stopped, steps, ReplacementStepKind.Stop, "Stopping", "stopped",
                id => docker.StopContainerAsync(id, replacement.StopGrace, ct));
        }
    }

    private async Task StartAsync(VolumeReplacement replacement, IReadOnlyList<string> stopped, IReplacementSteps steps, CancellationToken ct)
    {
        foreach (var level in StackControl.DependencyLevels(replacement.Services))
        {
            await InParallelAsync(level, stopped, steps, ReplacementStepKind.Start, "Starting", "started", id => docker.StartContainerAsync(id, ct));
        }
    }

    private static async Task InParallelAsync(
        IReadOnlyList<ServiceView> level, IReadOnlyList<string> scope, IReplacementSteps steps, ReplacementStepKind kind, string doing, string done,
        Func<string, Task> act)
    {
        var services = level.Where(s => s.Containers.Any(c => scope.Contains(c.Id))).ToList();
        var begun = new List<(ServiceView Service, object Step)>();
        foreach (var service in services)
        {
            begun.Add((service, await steps.BeginAsync(new ReplacementStep(kind, service.Name, $"{doing} {service.Name}"))));
        }

        await Task.WhenAll(services.SelectMany(s => s.Containers).Where(c => scope.Contains(c.Id)).Select(c => act(c.Id)));
        foreach (var (service, step) in begun)
        {
            await steps.EndAsync(step, true, $"{service.Name} {done}.");
        }
    }

    /// <summary>After a failure: start what was stopped, never cancelled, each service on its own; the journal is kept
    /// for recovery when a container could not be started (the engine is gone).</summary>
    private async Task StartAfterFailureAsync(VolumeReplacement replacement, IReadOnlyList<string> stopped, IReplacementSteps steps)
    {
        var allStarted = true;
        foreach (var service in StackControl.DependencyOrder(replacement.Services).Where(s => s.Containers.Any(c => stopped.Contains(c.Id))))
        {
            var step = await steps.BeginAsync(new ReplacementStep(ReplacementStepKind.Start, service.Name, $"Starting {service.Name} again"));
            try
            {
                foreach (var container in service.Containers.Where(c => stopped.Contains(c.Id)))
                {
                    await docker.StartContainerAsync(container.Id, CancellationToken.None);
                }

                await steps.EndAsync(step, true, $"{service.Name} started again.");
            }
            catch (Exception e) when (e is DockerUnavailableException or DockerOperationException or DockerNotFoundException)
            {
                allStarted = false;
                BackupLog.ResumeFailed(logger, e, service.Name, Data.Vocabulary.Name(replacement.Operation), replacement.OperationId);
                await steps.EndAsync(step, false, $"{service.Name} could not be started: {e.Message}");
            }
        }

        InflightJournal.Release(sets.BackupDirectory, replacement.OperationId, delete: allStarted);
    }

    /// <summary>A hot copy (the services are stopped, so it is consistent), in the catalog as soon as it is complete.</summary>
    private async Task<BackupOutcome> SafetyCopyAsync(
        VolumeReplacement replacement, IReadOnlyList<string> volumes, SafetyCopyRequest copy, IReplacementSteps steps, IProgress<BackupProgress>? progress,
        CancellationToken ct)
    {
        var set = BackupSet.NewRunning(volumes, BackupMode.Hot, copy.Trigger, copy.RequestedBy, scheduleId: null);
        if (recorder is not null)
        {
            await recorder.StartedAsync(set, ct);
        }

        var step = await steps.BeginAsync(new ReplacementStep(ReplacementStepKind.SafetyCopy, string.Join(", ", volumes),
            $"Safety backup of {volumes.Count} volume(s)", set.Id));
        try
        {
            var outcome = await writer.WriteAsync(new BackupRequest(set.Id, volumes, BackupMode.Hot, ArchiveCompression.Zstd, copy.Trigger), progress, ct);
            if (recorder is not null)
            {
                await recorder.CompletedAsync(outcome, CancellationToken.None);
            }

            // From here on the volumes change: a portal killed now is rolled back to this set by recovery.
            await InflightJournal.SetSafetyFolderAsync(sets.BackupDirectory, replacement.OperationId, outcome.Folder, ct);
            await steps.EndAsync(step, true, $"Safety backup {set.Id:D} taken ({Format.Bytes(outcome.Manifest.Volumes.Sum(v => v.CompressedBytes))}).");
            return outcome;
        }
        catch (Exception e)
        {
            if (recorder is not null)
            {
                await recorder.FailedAsync(set.Id, e.Message, CancellationToken.None);
            }

            await steps.EndAsync(step, false, e.Message);
            throw new ReplacementFailedException($"The safety backup failed, so nothing was replaced: {e.Message}", rolledBack: false, e);
        }
    }

    /// <summary>Restores or empties each volume, a few side by side; on a failure puts the safety copy back.</summary>
    private async Task ReplaceAllAsync(
        VolumeReplacement replacement, BackupOutcome? safety, IReplacementSteps steps, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var begun = new List<(string Volume, bool Restore, object Step)>();
        try
        {
            foreach (var volume in replacement.Restore)
            {
                begun.Add((volume, true, await steps.BeginAsync(new ReplacementStep(ReplacementStepKind.Restore, volume, $"Restoring {volume} from set {replacement.Source!.Manifest.SetId:D}"))));
            }

            foreach (var volume in replacement.Empty)
            {
                begun.Add((volume, false, await steps.BeginAsync(new ReplacementStep(ReplacementStepKind.Empty, volume, $"Emptying {volume}"))));
            }

            using var slots = new SemaphoreSlim(Math.Max(1, replacement.Parallelism));
            var outcomes = await Task.WhenAll(begun.Select(async b =>
            {
                await slots.WaitAsync(ct);
                var took = Stopwatch.StartNew();
                try
                {
                    if (b.Restore)
                    {
                        await content.ReplaceAsync(replacement.Source!.ArchiveOf(b.Volume)
                            ?? throw new BackupRefusedException($"Volume {b.Volume} was not validated in set {replacement.Source.Manifest.SetId}; nothing was replaced."),
                            oldContentIsCopied: safety is not null, progress, ct);
                        BackupLog.VolumeRestored(logger, b.Volume, replacement.Source.Manifest.SetId);
                    }
                    else
                    {
                        await content.EmptyAsync(b.Volume, ct);
                    }

                    return ((Exception?)null, took.Elapsed);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    return (e, took.Elapsed);
                }
                finally
                {
                    slots.Release();
                }
            }));

            foreach (var ((volume, restore, step), (error, took)) in begun.Zip(outcomes))
            {
                var tar = replacement.Source?.Manifest.FindVolume(volume);
                await steps.EndAsync(step, error is null, error?.Message ?? (restore
                    ? $"{volume} restored: {tar!.EntryCount:N0} entries, {Format.Bytes(tar.TarBytes)}, checked against the manifest."
                    : $"{volume} emptied; its service initialises it again on start."), took);
            }

            if (begun.Zip(outcomes).FirstOrDefault(x => x.Second.Item1 is not null) is { First.Volume: { } failed, Second.Item1: { } failure })
            {
                if (safety is null)
                {
                    // Without a safety copy there is nothing to roll back to: the volume's own error says what is left where.
                    ExceptionDispatchInfo.Throw(begun.Count == 1 ? failure : new VolumeReplaceException(failed, failure));
                }

                throw new VolumeReplaceException(failed, failure);
            }
        }
        catch (Exception e) when (safety is not null && begun.Count > 0)
        {
            await RollBackAfterFailureAsync(replacement, safety, e, steps);
        }
    }

    private async Task RollBackAfterFailureAsync(VolumeReplacement replacement, BackupOutcome safety, Exception e, IReplacementSteps steps)
    {
        var volumes = string.Join(", ", safety.Manifest.Volumes.Select(v => v.Name));
        BackupLog.RollingBack(logger, e, replacement.OperationId, volumes, safety.SetId);
        var step = await steps.BeginAsync(new ReplacementStep(ReplacementStepKind.Rollback, volumes, "Putting back the safety backup"));
        try
        {
            await RollBackAsync(safety.Folder, CancellationToken.None);
        }
        catch (Exception rollback)
        {
            BackupLog.RollbackFailed(logger, rollback, replacement.OperationId, safety.Folder);
            await steps.EndAsync(step, false, rollback.Message);
            throw new ReplacementFailedException(
                $"{replacement.Description} failed ({e.Message}), and putting back the safety backup failed too ({rollback.Message}). " +
                $"The volumes may be incomplete; the safety backup is set {safety.SetId:D} in {safety.Folder}: restore it from the Backups page.",
                rolledBack: false, new AggregateException(e, rollback));
        }

        await steps.EndAsync(step, true, $"{volumes} rolled back to the safety backup; nothing was lost.");
        throw new ReplacementFailedException(
            $"{replacement.Description} failed: {e.Message} Nothing was lost: the volumes were rolled back to the safety backup {safety.SetId:D} " +
            "taken just before, and their services were started again.", rolledBack: true, e);
    }

    /// <summary>A restore's steps as its progress bar shows them.</summary>
    private sealed class ProgressSteps(IProgress<BackupProgress>? progress) : IReplacementSteps
    {
        public Task<object> BeginAsync(ReplacementStep step)
        {
            var shown = step.Kind switch
            {
                ReplacementStepKind.Stop => "Stopping services",
                ReplacementStepKind.Start => "Starting services",
                ReplacementStepKind.Rollback => "Rolling back",
                _ => null,
            };
            if (shown is not null)
            {
                progress?.Report(new BackupProgress(shown, step.Target, 0, null));
            }

            return Task.FromResult<object>(step);
        }

        public Task EndAsync(object step, bool succeeded, string message, TimeSpan? took = null) => Task.CompletedTask;
    }
}
