using System.Diagnostics;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>
/// Carries out one queued reset, holding the stack lock throughout: check the baseline's archives → stop the
/// services in reverse dependency order → safety backup of the volumes it replaces (hot, as nothing runs) → restore
/// or empty each volume (rolling back to the safety backup if one fails) → start in dependency order → wait until
/// every service is healthy. Every step is written to the run's log as it happens. Whatever fails, the services it
/// stopped are started again; a journal in the backup directory lets start-up recovery do that after a crash.
/// </summary>
public sealed class ResetRunner(
    PanelDbContext db,
    IDockerEngine docker,
    BackupRunner backups,
    BackupFolders folders,
    StackSnapshot snapshot,
    StackLock stackLock,
    ResetProgressHub hub,
    IAuditLog audit,
    IOptions<ResetOptions> options,
    TimeProvider time,
    ILogger<ResetRunner> logger)
{
    public const JournalOperation Operation = JournalOperation.Reset;

    private readonly ResetOptions _options = options.Value;

    private DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Runs the reset <paramref name="runId"/> if it is still queued (a second delivery of the job does nothing).</summary>
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        // Claimed atomically: of two deliveries, or a delivery and start-up recovery, exactly one moves it on.
        var now = time.GetUtcNow();
        var claimed = await DatabaseRetry.ExecuteAsync(async token => await db.ResetRuns.Where(r => r.Id == runId && r.Status == ResetStatus.Queued)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, ResetStatus.Running).SetProperty(r => r.StartedAt, now), token), ct);
        if (claimed == 0)
        {
            logger.LogInformation("Reset {RunId} is not queued any more; the job has nothing to do", runId);
            return;
        }

        var run = await db.ResetRuns.FirstAsync(r => r.Id == runId, ct);
        var stopwatch = Stopwatch.StartNew();
        var log = new StepLog(this, run);
        try
        {
            using (stackLock.Acquire($"the reset to baseline \"{run.BaselineName}\" asked for by {run.RequestedBy}"))
            {
                await ResetAsync(run, log, ct);
            }

            run.Status = ResetStatus.Succeeded;
            run.Error = null;
        }
        catch (Exception e)
        {
            run.Status = ResetStatus.Failed;
            run.Error = e switch
            {
                OperationCanceledException when ct.IsCancellationRequested =>
                    "The portal stopped during the reset; the services it had stopped were started again. Run the reset again to complete it.",
                StackBusyException busy => busy.Message,
                _ => e.Message,
            };
            foreach (var step in run.Steps.Where(s => s.Status == ResetStepStatus.Running))
            {
                step.Status = ResetStepStatus.Failed;
                step.Message = run.Error;
                step.DurationMs = (long)(time.GetUtcNow() - step.StartedAt).TotalMilliseconds;
            }

            logger.LogWarning(e, "Reset {RunId} failed: {Error}", runId, run.Error);
        }
        finally
        {
            run.Active = false;
            run.FinishedAt = time.GetUtcNow();
            run.DurationMs = stopwatch.ElapsedMilliseconds;
            // The outcome must reach the database (it also frees the one active reset): retried through a restart of it.
            await DatabaseRetry.ExecuteAsync(async token => await db.SaveChangesAsync(token), CancellationToken.None);
            hub.Publish(run.Id);
            await audit.RecordAsync(new AuditRecord(run.RequestedBy, ResetAuditActions.Run, Describe(run), run.Status == ResetStatus.Succeeded, run.Error),
                CancellationToken.None);
        }
    }

    /// <summary>"baseline X, whole stack" or "baseline X: grafana, loki".</summary>
    public static string Describe(ResetRun run) =>
        $"baseline {run.BaselineName}, " + (run.WholeStack ? "whole stack" : string.Join(", ", run.Services));

    private async Task ResetAsync(ResetRun run, StepLog log, CancellationToken ct)
    {
        var view = snapshot.Current;
        if (view.IsStale)
        {
            throw new ResetRefusedException($"The Docker engine cannot be read ({view.StaleReason}); nothing was changed. Try again when it is back.");
        }

        // 1. Check: the plan, and every archive the reset will restore, before anything is stopped.
        var check = await log.BeginAsync(ResetStepKind.Check, null, "Checking the baseline and the services in scope");
        Baseline? baseline = null;
        if (run.BaselineId is { } baselineId)
        {
            baseline = await db.Baselines.AsNoTracking().Include(b => b.Set).ThenInclude(s => s!.Volumes).FirstOrDefaultAsync(b => b.Id == baselineId, ct)
                ?? throw new ResetRefusedException($"The baseline \"{run.BaselineName}\" was deleted after the reset was asked for; nothing was changed.");
            if (baseline.Set is not { Status: BackupSetStatus.Completed })
            {
                throw new ResetRefusedException(
                    $"The backup of baseline \"{baseline.Name}\" is {baseline.Set?.Status.ToString().ToLowerInvariant() ?? "gone"}; only a completed set can be restored. Nothing was changed.");
            }
        }

        var plan = ResetPlan.Build(view, run.WholeStack ? null : run.Services, baseline);
        ValidatedSet? validated = null;
        var toRestore = plan.VolumesTo(VolumeResetAction.Restore);
        if (baseline is not null && toRestore.Count > 0)
        {
            validated = await backups.ValidateSetAsync(baseline.Set!.Folder, toRestore, null, ct);
        }

        // The volumes' labels as the engine holds them now (never the portal's own), and room to fill each one.
        await backups.CheckBeforeResetAsync(plan.ReplacedVolumes, validated, ct);

        await log.DoneAsync(check, $"Baseline \"{plan.BaselineName}\"" + (plan.BaselineTakenAt is { } at ? $" taken {at:yyyy-MM-dd HH:mm} UTC" : " (empty volumes)") +
            $": {toRestore.Count} volume(s) to restore, {plan.VolumesTo(VolumeResetAction.Empty).Count} to empty, {plan.VolumesTo(VolumeResetAction.Keep).Count} kept; " +
            $"{plan.Services.Count} service(s).");

        // 2. Stop, dependents first. The journal names every container in scope, so recovery starts them all after a crash.
        var containers = plan.Services.SelectMany(s => s.Containers).Select(c => c.Id).ToList();
        var journal = new InflightJournal(run.Id, Operation, validated is null ? "" : folders.SetPath(baseline!.Set!.Folder), [], containers, time.GetUtcNow());
        await journal.WriteAsync(folders.Root, ct);
        var restarted = false;
        try
        {
            foreach (var level in Enumerable.Reverse(StackControl.DependencyLevels(plan.Services)))
            {
                await InParallelAsync(level, log, ResetStepKind.Stop, "Stopping", "stopped",
                    container => docker.StopContainerAsync(container, _options.StopGracePeriod, ct));
            }

            // 3. Safety backup of what will be replaced; the services are stopped, so a hot copy is a consistent one.
            var replaced = plan.ReplacedVolumes;
            (BackupOutcome Outcome, Guid SetId)? safety = null;
            if (run.SafetyBackup && replaced.Count > 0)
            {
                var step = await log.BeginAsync(ResetStepKind.SafetyBackup, string.Join(", ", replaced), $"Safety backup of {replaced.Count} volume(s)");
                safety = await SafetyBackupAsync(run, replaced, ct);
                await log.DoneAsync(step, $"Safety backup {safety.Value.SetId:D} taken ({Format.Bytes(safety.Value.Outcome.Manifest.Volumes.Sum(v => v.CompressedBytes))}).");
            }

            // 4. Restore or empty each volume; on a failure, put back what the safety backup holds.
            var touched = new List<string>();
            try
            {
                foreach (var volume in plan.Volumes.Where(v => v.Action == VolumeResetAction.Keep))
                {
                    var kept = await log.BeginAsync(ResetStepKind.Keep, volume.Name, $"Keeping {volume.Name}");
                    await log.EndAsync(kept, ResetStepStatus.Skipped, $"{volume.Name} kept as it is: the baseline holds no copy of it.");
                }

                var replacing = plan.Volumes.Where(v => v.Action != VolumeResetAction.Keep).ToList();
                touched.AddRange(replacing.Select(v => v.Name));
                var steps = new List<ResetStep>();
                foreach (var volume in replacing)
                {
                    steps.Add(volume.Action == VolumeResetAction.Restore
                        ? await log.BeginAsync(ResetStepKind.Restore, volume.Name, $"Restoring {volume.Name} from the baseline")
                        : await log.BeginAsync(ResetStepKind.Empty, volume.Name, $"Emptying {volume.Name}"));
                }

                // Each volume has its own helper container: they are replaced side by side (nothing uses them now).
                var outcomes = await ReplaceAllAsync(replacing, validated, ct);
                foreach (var (volume, step, outcome) in replacing.Zip(steps, outcomes))
                {
                    var tar = validated?.Manifest.FindVolume(volume.Name);
                    await log.EndAsync(step, outcome.Error is null ? ResetStepStatus.Done : ResetStepStatus.Failed,
                        outcome.Error?.Message ?? (volume.Action == VolumeResetAction.Restore
                            ? $"{volume.Name} restored: {tar!.EntryCount:N0} entries, {Format.Bytes(tar.TarBytes)}, checked against the manifest."
                            : $"{volume.Name} emptied; its service initialises it again on start."),
                        outcome.Took);
                }

                if (replacing.Zip(outcomes).FirstOrDefault(x => x.Second.Error is not null) is { First: { } failedVolume, Second.Error: { } failure })
                {
                    throw new VolumeReplaceException(failedVolume.Name, failure);
                }
            }
            catch (Exception e) when (safety is not null && touched.Count > 0)
            {
                var step = await log.BeginAsync(ResetStepKind.Rollback, string.Join(", ", touched), "Putting back the safety backup");
                try
                {
                    var safetySet = await backups.ValidateSetAsync(safety.Value.Outcome.Folder, touched, null, CancellationToken.None);
                    await backups.ReplaceStoppedVolumesAsync(safetySet, touched, null, CancellationToken.None);
                }
                catch (Exception rollback)
                {
                    await log.EndAsync(step, ResetStepStatus.Failed, rollback.Message);
                    throw new ResetFailedException(
                        $"The reset failed ({e.Message}), and putting back the safety backup failed too ({rollback.Message}). " +
                        $"The safety backup is set {safety.Value.SetId:D}; restore it from the Backups page.", e);
                }

                await log.DoneAsync(step, $"{string.Join(", ", touched)} rolled back to the safety backup; nothing was lost.");
                throw new ResetFailedException($"The reset failed: {e.Message} The volumes were rolled back to the safety backup taken just before.", e);
            }
            catch (Exception e) when (safety is null && touched.Count > 0 && e is not OperationCanceledException)
            {
                throw new ResetFailedException(
                    $"The reset failed: {e.Message} Without a safety backup it cannot be rolled back, so " +
                    $"{string.Join(", ", touched)} may be partly reset. Run the reset again to complete it.", e);
            }

            // 5. Start, dependencies first.
            await StartAsync(plan, log, ct);
            restarted = true;
            InflightJournal.Release(folders.Root, run.Id, delete: true);
        }
        finally
        {
            if (!restarted)
            {
                await StartAfterFailureAsync(plan, log, run.Id);
            }
        }

        // 6. Wait until every service is healthy.
        await WaitHealthyAsync(plan, log, ct);
    }

    private async Task<(BackupOutcome Outcome, Guid SetId)> SafetyBackupAsync(ResetRun run, IReadOnlyList<string> volumes, CancellationToken ct)
    {
        var set = BackupService.NewSet(volumes, BackupMode.Hot, BackupTrigger.PreReset, run.RequestedBy, scheduleId: null);
        db.BackupSets.Add(set);
        run.SafetySetId = set.Id;
        await SaveAsync(run);
        try
        {
            var outcome = await backups.BackupAsync(new BackupRequest(set.Id, volumes, BackupMode.Hot, ArchiveCompression.Zstd, BackupTrigger.PreReset), null, ct);
            set.Folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(outcome.Folder));
            BackupFolders.ApplyManifest(set, outcome.Manifest);
            set.DurationMs = (long)outcome.Duration.TotalMilliseconds;
            set.Status = BackupSetStatus.Completed;
            set.CompletedAt = time.GetUtcNow();
            await SaveAsync(run);
            return (outcome, set.Id);
        }
        catch (Exception e)
        {
            set.Status = BackupSetStatus.Failed;
            set.Error = e.Message.Length <= 2000 ? e.Message : e.Message[..2000];
            set.CompletedAt = time.GetUtcNow();
            await SaveAsync(run);
            throw new ResetFailedException($"The safety backup failed, so nothing was replaced: {e.Message}", e);
        }
    }

    /// <summary>Restores or empties each volume, a few at a time; every outcome is returned, none is thrown.</summary>
    private async Task<IReadOnlyList<(Exception? Error, TimeSpan Took)>> ReplaceAllAsync(
        IReadOnlyList<PlannedVolume> volumes, ValidatedSet? validated, CancellationToken ct)
    {
        using var slots = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
        return await Task.WhenAll(volumes.Select(async volume =>
        {
            await slots.WaitAsync(ct);
            var started = Stopwatch.StartNew();
            try
            {
                if (volume.Action == VolumeResetAction.Restore)
                {
                    await backups.ReplaceStoppedVolumesAsync(validated!, [volume.Name], null, ct);
                }
                else
                {
                    await backups.EmptyStoppedVolumesAsync([volume.Name], ct);
                }

                return ((Exception?)null, started.Elapsed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return (e, started.Elapsed);
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    private async Task StartAsync(ResetPlan plan, StepLog log, CancellationToken ct)
    {
        foreach (var level in StackControl.DependencyLevels(plan.Services))
        {
            await InParallelAsync(level, log, ResetStepKind.Start, "Starting", "started", container => docker.StartContainerAsync(container, ct));
        }
    }

    /// <summary>
    /// One step per service of a dependency level, their containers acted on together (the step log is written before
    /// and after, never concurrently).
    /// </summary>
    private static async Task InParallelAsync(
        IReadOnlyList<ServiceView> level, StepLog log, ResetStepKind kind, string doing, string done, Func<string, Task> act)
    {
        var steps = new List<(ServiceView Service, ResetStep Step)>();
        foreach (var service in level)
        {
            steps.Add((service, await log.BeginAsync(kind, service.Name, $"{doing} {service.Name}")));
        }

        await Task.WhenAll(level.SelectMany(s => s.Containers).Select(c => act(c.Id)));
        foreach (var (service, step) in steps)
        {
            await log.DoneAsync(step, $"{service.Name} {done}.");
        }
    }

    /// <summary>After a failure: start what the reset stopped (all in scope), never cancelled, each service on its own.</summary>
    private async Task StartAfterFailureAsync(ResetPlan plan, StepLog log, Guid runId)
    {
        var allStarted = true;
        foreach (var service in plan.Services)
        {
            var step = await log.BeginAsync(ResetStepKind.Start, service.Name, $"Starting {service.Name} again");
            try
            {
                foreach (var container in service.Containers)
                {
                    await docker.StartContainerAsync(container.Id, CancellationToken.None);
                }

                await log.DoneAsync(step, $"{service.Name} started again.");
            }
            catch (Exception e) when (e is DockerUnavailableException or DockerOperationException or DockerNotFoundException)
            {
                allStarted = false;
                await log.EndAsync(step, ResetStepStatus.Failed, $"{service.Name} could not be started: {e.Message}");
            }
        }

        // A container that could not be started (the engine is gone) stays in the journal, which recovery takes over: it
        // starts them once the engine answers again.
        InflightJournal.Release(folders.Root, runId, delete: allStarted);
    }

    private async Task WaitHealthyAsync(ResetPlan plan, StepLog log, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var waiting = new Dictionary<string, (ServiceView Service, ResetStep Step, string? LastOutput)>(StringComparer.Ordinal);
        foreach (var service in plan.Services)
        {
            waiting[service.Name] = (service, await log.BeginAsync(ResetStepKind.Health, service.Name, $"Waiting until {service.Name} is healthy"), null);
        }

        while (waiting.Count > 0)
        {
            foreach (var (name, entry) in waiting.ToList())
            {
                var (healthy, output) = await HealthOfAsync(entry.Service, ct);
                if (healthy)
                {
                    waiting.Remove(name);
                    await log.DoneAsync(entry.Step, $"{name} is healthy after {started.Elapsed.TotalSeconds:0.0} s.");
                }
                else
                {
                    waiting[name] = entry with { LastOutput = output };
                }
            }

            if (waiting.Count == 0)
            {
                break;
            }

            if (started.Elapsed >= _options.HealthTimeout)
            {
                foreach (var (name, entry) in waiting)
                {
                    await log.EndAsync(entry.Step, ResetStepStatus.Failed,
                        $"{name} was not healthy after {_options.HealthTimeout.TotalSeconds:0} s. Last health output: {entry.LastOutput ?? "none"}");
                }

                var late = waiting.Values.First();
                throw new ResetFailedException(
                    $"{string.Join(", ", waiting.Keys)} did not become healthy within {_options.HealthTimeout.TotalSeconds:0} s " +
                    $"(last health output of {late.Service.Name}: {late.LastOutput ?? "none"}). The volumes were reset and the other services are running; " +
                    "open the service's logs to see why.");
            }

            await Task.Delay(_options.HealthPollInterval, time, ct);
        }
    }

    /// <summary>Healthy: every container runs and passes Docker's health check, or has none.</summary>
    private async Task<(bool Healthy, string? Output)> HealthOfAsync(ServiceView service, CancellationToken ct)
    {
        foreach (var container in service.Containers)
        {
            var live = await docker.InspectContainerAsync(container.Id, ct);
            if (live is null)
            {
                return (false, "the container is gone");
            }

            if (live.State != ContainerState.Running)
            {
                return (false, $"the container is {live.State.ToString().ToLowerInvariant()} ({live.StatusText})");
            }

            if (live.Health is { Status: not ("healthy" or "none") } health)
            {
                return (false, $"{health.Status}: {health.LastOutput?.Trim() ?? "no output yet"}");
            }
        }

        return (true, null);
    }

    /// <summary>
    /// Saves the step log as it goes. A database that is away for a moment (restarted) must not cut a reset off with
    /// the services stopped: the changes stay pending and go out with the next save.
    /// </summary>
    private async Task SaveAsync(ResetRun run)
    {
        try
        {
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception e) when (DatabaseRetry.IsTransient(e))
        {
            logger.LogWarning(e, "The step log of reset {RunId} could not be saved now; it is saved with the next step", run.Id);
        }

        hub.Publish(run.Id);
    }

    /// <summary>The run's step log, saved and published at every change.</summary>
    private sealed class StepLog(ResetRunner runner, ResetRun run)
    {
        public async Task<ResetStep> BeginAsync(ResetStepKind kind, string? target, string message)
        {
            var step = new ResetStep
            {
                Index = run.Steps.Count, Kind = kind, Target = target, Status = ResetStepStatus.Running, Message = message + "…",
                StartedAt = runner.Now,
            };
            run.Steps.Add(step);
            await runner.SaveAsync(run);
            return step;
        }

        public Task DoneAsync(ResetStep step, string message) => EndAsync(step, ResetStepStatus.Done, message);

        public async Task EndAsync(ResetStep step, ResetStepStatus status, string message, TimeSpan? took = null)
        {
            step.Status = status;
            step.Message = message;
            step.DurationMs = (long)(took ?? runner.Now - step.StartedAt).TotalMilliseconds;
            await runner.SaveAsync(run);
        }
    }
}

/// <summary>Restoring or emptying one volume failed; the message names it.</summary>
public sealed class VolumeReplaceException(string volume, Exception inner) : Exception($"{volume}: {inner.Message}", inner);

/// <summary>A reset that started and failed; the message says what happened to the volumes and services.</summary>
public sealed class ResetFailedException(string message, Exception? inner = null) : Exception(message, inner);
