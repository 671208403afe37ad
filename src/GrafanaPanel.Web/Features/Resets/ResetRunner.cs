using System.Diagnostics;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Backups.Volumes;
using GrafanaPanel.Web.Features.Stack;
using GrafanaPanel.Web.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>
/// Carries out one queued reset, holding the stack lock throughout: check the baseline → replace the volumes through
/// the one volume replacement (<see cref="IVolumeReplacer"/>: stop in reverse dependency order, safety backup, restore
/// or empty each volume, roll back on a failure, start in dependency order) → wait until every service is healthy.
/// Every step is written to the run's log as it happens. Whatever fails, the services it stopped are started again;
/// the replacement's journal lets start-up recovery roll back and start them after a crash.
/// </summary>
public sealed class ResetRunner(
    PanelDbContext db,
    IDockerEngine docker,
    IVolumeReplacer replacer,
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
        using var span = PanelStep.Start("reset run").Tag("reset.run_id", run.Id.ToString()).Tag("reset.baseline", run.BaselineName)
            .Tag("reset.services", run.WholeStack ? "whole stack" : string.Join(",", run.Services));
        try
        {
            using (stackLock.Acquire($"the reset to baseline \"{run.BaselineName}\" asked for by {run.RequestedBy}"))
            {
                await ResetAsync(run, log, ct);
            }

            run.Status = ResetStatus.Succeeded;
            run.Error = null;
            span.Done();
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
            span.Failed(e);
            // The run is marked Failed rather than thrown: the job's span and metrics learn it here.
            JobRun.Failed(e);
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
        using var checking = PanelStep.Start("reset check");
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
        var toRestore = plan.VolumesTo(VolumeResetAction.Restore);
        var toEmpty = plan.VolumesTo(VolumeResetAction.Empty);
        // The archives, the volumes' labels as the engine holds them now (never the portal's own), and room to fill each one.
        var source = await replacer.CheckAsync(toRestore.Count > 0 ? baseline?.Set?.Folder : null, toRestore, toEmpty, null, ct);

        checking.Tag("volumes.restore", toRestore.Count).Tag("volumes.empty", toEmpty.Count).Done();
        await log.DoneAsync(check, $"Baseline \"{plan.BaselineName}\"" + (plan.BaselineTakenAt is { } at ? $" taken {at:yyyy-MM-dd HH:mm} UTC" : " (empty volumes)") +
            $": {toRestore.Count} volume(s) to restore, {toEmpty.Count} to empty, {plan.VolumesTo(VolumeResetAction.Keep).Count} kept; " +
            $"{plan.Services.Count} service(s).");

        foreach (var volume in plan.VolumesTo(VolumeResetAction.Keep))
        {
            var kept = await log.BeginAsync(ResetStepKind.Keep, volume, $"Keeping {volume}");
            await log.EndAsync(kept, ResetStepStatus.Skipped, $"{volume} kept as it is: the baseline holds no copy of it.");
        }

        // 2.–5. Stop, safety backup, replace (rolled back on a failure), start: the one volume replacement.
        try
        {
            await replacer.ReplaceAsync(
                new VolumeReplacement(run.Id, Operation, "The reset", source, toRestore, toEmpty, plan.Services, StartEveryContainer: true,
                    run.SafetyBackup ? new SafetyCopyRequest(BackupTrigger.PreReset, run.RequestedBy) : null, _options.StopGracePeriod,
                    Parallelism: Math.Max(2, Environment.ProcessorCount)),
                log, progress: null, ct);
        }
        catch (Exception e) when (!run.SafetyBackup && log.Replacing && e is not (ReplacementFailedException or OperationCanceledException))
        {
            throw new ResetFailedException(
                $"The reset failed: {e.Message} Without a safety backup it cannot be rolled back, so " +
                $"{string.Join(", ", plan.ReplacedVolumes)} may be partly reset. Run the reset again to complete it.", e);
        }

        // 6. Wait until every service is healthy.
        using var waiting = PanelStep.Start("reset wait healthy").Tag("services", plan.Services.Count);
        await WaitHealthyAsync(plan, log, ct);
        waiting.Done();
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

    /// <summary>The run's step log, saved and published at every change; the volume replacement writes its steps here too.</summary>
    private sealed class StepLog(ResetRunner runner, ResetRun run) : IReplacementSteps
    {
        /// <summary>Whether a volume has begun to be restored or emptied.</summary>
        public bool Replacing { get; private set; }

        async Task<object> IReplacementSteps.BeginAsync(ReplacementStep step)
        {
            if (step.Kind is ReplacementStepKind.Restore or ReplacementStepKind.Empty)
            {
                Replacing = true;
            }

            if (step.SafetySetId is { } safety)
            {
                run.SafetySetId = safety;
            }

            var message = step.Kind == ReplacementStepKind.Restore ? $"Restoring {step.Target} from the baseline" : step.Message;
            return await BeginAsync(KindOf(step.Kind), step.Target, message);
        }

        Task IReplacementSteps.EndAsync(object step, bool succeeded, string message, TimeSpan? took) =>
            EndAsync((ResetStep)step, succeeded ? ResetStepStatus.Done : ResetStepStatus.Failed, message, took);

        private static ResetStepKind KindOf(ReplacementStepKind kind) => kind switch
        {
            ReplacementStepKind.Stop => ResetStepKind.Stop,
            ReplacementStepKind.SafetyCopy => ResetStepKind.SafetyBackup,
            ReplacementStepKind.Restore => ResetStepKind.Restore,
            ReplacementStepKind.Empty => ResetStepKind.Empty,
            ReplacementStepKind.Rollback => ResetStepKind.Rollback,
            _ => ResetStepKind.Start,
        };

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

/// <summary>A reset that started and failed; the message says what happened to the volumes and services.</summary>
public sealed class ResetFailedException(string message, Exception? inner = null) : Exception(message, inner);
