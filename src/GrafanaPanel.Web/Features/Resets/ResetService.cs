using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Jobs;
using GrafanaPanel.Web.Features.Resets.Jobs;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Schedules;
using GrafanaPanel.Web.Features.Stack;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>
/// The entry points of resets and baselines. Every action checks the role against the database at the moment of the
/// action and is recorded in the audit log (also when refused); resets run as Hangfire jobs by run id.
/// </summary>
public sealed partial class ResetService(
    IDbContextFactory<PanelDbContext> dbs,
    RoleGate gate,
    IAuditLog audit,
    IBackgroundJobClient jobs,
    IBackupQueue backupQueue,
    ResetScheduler scheduler,
    StackSnapshot snapshot,
    StackLock stackLock,
    IOptions<ResetOptions> options,
    IOptions<StackOptions> stackOptions,
    TimeProvider time) : IResetService
{
    public string StackName => stackOptions.Value.ProjectName;

    public Task<bool> CanManageAsync() => gate.AllowsAsync(PanelRoles.Instructor);

    public async Task<IReadOnlyList<Baseline>> ListBaselinesAsync(CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Baselines.AsNoTracking().Include(b => b.Set).ThenInclude(s => s!.Volumes).OrderBy(b => b.Name).ToListAsync(ct);
    }

    public async Task<Baseline?> DefaultBaselineAsync(CancellationToken ct = default)
    {
        var baselines = await ListBaselinesAsync(ct);
        return baselines.FirstOrDefault(b => b.IsDefault)
            ?? baselines.FirstOrDefault(b => string.Equals(b.Name, options.Value.DefaultBaseline, StringComparison.OrdinalIgnoreCase));
    }

    public async Task<ResetPlan> PlanAsync(Guid? baselineId, IReadOnlyList<string>? services, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await PlanAsync(db, baselineId, services, ct);
    }

    private async Task<ResetPlan> PlanAsync(PanelDbContext db, Guid? baselineId, IReadOnlyList<string>? services, CancellationToken ct)
    {
        var baseline = baselineId is { } id ? await UsableBaselineAsync(db, id, ct) : null;
        return ResetPlan.Build(snapshot.Current, services, baseline);
    }

    public Task<Guid> RequestResetAsync(ResetRequest request, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.Request, DescribeRequest(request), async (user, db) =>
        {
            var plan = await PlanAsync(db, request.BaselineId, request.Services, ct);
            if (plan.WholeStack && !string.Equals(request.Confirmation?.Trim(), StackName, StringComparison.Ordinal))
            {
                throw new ResetRefusedException($"To reset the whole stack, type its name \"{StackName}\" to confirm. Nothing was changed.");
            }

            return await QueueAsync(db, plan, request.SafetyBackup, user, ResetTrigger.Manual, scheduleId: null, ct);
        }, ct);

    /// <summary>
    /// Inserts the run as the one active reset (the database refuses a second) and enqueues its job. Used by the
    /// dialog and by scheduled resets.
    /// </summary>
    internal async Task<Guid> QueueAsync(PanelDbContext db, ResetPlan plan, bool safetyBackup, string user, ResetTrigger trigger, Guid? scheduleId, CancellationToken ct)
    {
        if (stackLock.Holder is { } holder)
        {
            throw new ResetRefusedException($"The stack is busy: {holder} is running. Wait until it has finished and try again; nothing was changed.") { Busy = true };
        }

        if (await ActiveRunAsync(db, ct) is { } active)
        {
            throw Busy(active);
        }

        var run = new ResetRun
        {
            Id = Guid.NewGuid(),
            RequestedAt = time.GetUtcNow(),
            RequestedBy = user,
            Trigger = trigger,
            ScheduleId = scheduleId,
            BaselineId = plan.BaselineId,
            BaselineName = plan.BaselineName,
            Services = plan.WholeStack ? [] : [.. plan.Services.Select(s => s.Name)],
            SafetyBackup = safetyBackup,
            Status = ResetStatus.Queued,
            Active = true,
        };
        db.ResetRuns.Add(run);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another request won the race between the check above and this insert.
            db.Entry(run).State = EntityState.Detached;
            throw await ActiveRunAsync(db, ct) is { } winner ? Busy(winner) : new ResetRefusedException("Another reset was asked for at the same moment; try again.") { Busy = true };
        }

        var id = run.Id;
        jobs.Enqueue<ResetJob>(job => job.RunAsync(id, CancellationToken.None));
        return id;
    }

    public async Task<IReadOnlyList<ResetRun>> ListRunsAsync(int take = 50, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.ResetRuns.AsNoTracking().OrderByDescending(r => r.RequestedAt).Take(Math.Clamp(take, 1, 500)).ToListAsync(ct);
    }

    public async Task<ResetRun?> GetRunAsync(Guid runId, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.ResetRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
    }

    public Task<Guid> CaptureBaselineAsync(BaselineInput input, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.BaselineCapture, input.Name, async (user, db) =>
        {
            var (name, description, module) = await CheckInputAsync(db, input, null, ct);
            var volumes = snapshot.Current.LabVolumeNames;
            if (volumes.Count == 0)
            {
                throw new ResetRefusedException("The stack has no lab volumes to capture. Is the stack created (docker compose up)?");
            }

            var set = BackupSet.NewRunning(volumes, BackupMode.Pause, BackupTrigger.Baseline, user, scheduleId: null);
            set.Pinned = true;
            var baseline = NewBaseline(name, description, module, set.Id, user);
            db.BackupSets.Add(set);
            db.Baselines.Add(baseline);
            await db.SaveChangesAsync(ct);
            var setId = set.Id;
            backupQueue.Enqueue(setId);
            return baseline.Id;
        }, ct);

    public Task<Guid> PromoteAsync(Guid setId, BaselineInput input, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.BaselinePromote, $"{setId} as {input.Name}", async (user, db) =>
        {
            var set = await db.BackupSets.FirstOrDefaultAsync(s => s.Id == setId, ct)
                ?? throw new ResetRefusedException("No such backup set.");
            if (set.Status != BackupSetStatus.Completed)
            {
                throw new ResetRefusedException($"The set is {Vocabulary.Display(set.Status)}; only a completed set can become a baseline.");
            }

            if (await db.Baselines.AnyAsync(b => b.SetId == setId, ct))
            {
                throw new ResetRefusedException("This set is a baseline already.");
            }

            var (name, description, module) = await CheckInputAsync(db, input, null, ct);
            set.Pinned = true;
            var baseline = NewBaseline(name, description, module, set.Id, user);
            db.Baselines.Add(baseline);
            await db.SaveChangesAsync(ct);
            return baseline.Id;
        }, ct);

    public Task UpdateBaselineAsync(Guid baselineId, BaselineInput input, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.BaselineUpdate, $"{baselineId} as {input.Name}", async (_, db) =>
        {
            var baseline = await BaselineAsync(db, baselineId, ct);
            var (name, description, module) = await CheckInputAsync(db, input, baselineId, ct);
            baseline.Name = name;
            baseline.Description = description;
            baseline.ModuleId = module;
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);

    public Task SetDefaultAsync(Guid? baselineId, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.BaselineDefault, baselineId?.ToString() ?? "configured default", async (_, db) =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.Baselines.Where(b => b.IsDefault).ExecuteUpdateAsync(u => u.SetProperty(b => b.IsDefault, false), ct);
            if (baselineId is { } id)
            {
                var baseline = await BaselineAsync(db, id, ct);
                baseline.IsDefault = true;
                await db.SaveChangesAsync(ct);
            }

            await transaction.CommitAsync(ct);
            return true;
        }, ct);

    public Task DeleteBaselineAsync(Guid baselineId, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.BaselineDelete, baselineId.ToString(), async (_, db) =>
        {
            var baseline = await BaselineAsync(db, baselineId, ct);
            var users = await db.ResetSchedules.Where(s => s.BaselineId == baselineId).Select(s => s.Name).OrderBy(n => n).ToListAsync(ct);
            if (users.Count > 0)
            {
                throw new ResetRefusedException(
                    $"Baseline \"{baseline.Name}\" is used by the reset schedule(s) {string.Join(", ", users.Select(n => $"\"{n}\""))}; " +
                    "change or delete them first.");
            }

            if (await db.ResetRuns.AnyAsync(r => r.Active && r.BaselineId == baselineId, ct))
            {
                throw new ResetRefusedException($"A reset to \"{baseline.Name}\" is queued or running; delete the baseline after it has finished.");
            }

            // The backup set stays, unpinned, on the Backups page: deleting a baseline never deletes data by itself.
            var set = await db.BackupSets.FirstOrDefaultAsync(s => s.Id == baseline.SetId, ct);
            if (set is not null)
            {
                set.Pinned = false;
            }

            db.Baselines.Remove(baseline);
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);

    private static async Task<(string Name, string Description, string? Module)> CheckInputAsync(PanelDbContext db, BaselineInput input, Guid? self, CancellationToken ct)
    {
        var name = (input.Name ?? "").Trim();
        if (name.Length is 0 or > 100 || name.Any(char.IsControl))
        {
            throw new ResetRefusedException("Give the baseline a name of 1 to 100 characters (no control characters).");
        }

        if (string.Equals(name, ResetOptions.FactoryName, StringComparison.OrdinalIgnoreCase))
        {
            throw new ResetRefusedException($"\"{ResetOptions.FactoryName}\" is the built-in baseline (empty volumes); choose another name.");
        }

        if (await db.Baselines.AnyAsync(b => b.Name == name && b.Id != self, ct))
        {
            throw new ResetRefusedException($"A baseline named \"{name}\" already exists.");
        }

        var description = (input.Description ?? "").Trim();
        if (description.Length > 1000)
        {
            throw new ResetRefusedException("Keep the description under 1,000 characters.");
        }

        var module = string.IsNullOrWhiteSpace(input.ModuleId) ? null : input.ModuleId.Trim();
        if (module is { Length: > 64 })
        {
            throw new ResetRefusedException("That is not a module id.");
        }

        return (name, description, module);
    }

    private Baseline NewBaseline(string name, string description, string? module, Guid setId, string user) => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        Description = description,
        ModuleId = module,
        SetId = setId,
        CreatedAt = time.GetUtcNow(),
        CreatedBy = user,
    };

    private static async Task<Baseline> UsableBaselineAsync(PanelDbContext db, Guid baselineId, CancellationToken ct)
    {
        var baseline = await db.Baselines.AsNoTracking().Include(b => b.Set).ThenInclude(s => s!.Volumes).FirstOrDefaultAsync(b => b.Id == baselineId, ct)
            ?? throw new ResetRefusedException("No such baseline; it may have been deleted. Choose another.");
        return baseline.Set?.Status switch
        {
            BackupSetStatus.Completed => baseline,
            BackupSetStatus.Running => throw new ResetRefusedException($"The backup of baseline \"{baseline.Name}\" is still being taken; wait until it has completed."),
            var status => throw new ResetRefusedException(
                $"The backup of baseline \"{baseline.Name}\" is {(status is { } s ? Vocabulary.Display(s) : "gone")}; it cannot be restored. Capture the baseline again."),
        };
    }

    private static async Task<Baseline> BaselineAsync(PanelDbContext db, Guid baselineId, CancellationToken ct) =>
        await db.Baselines.FirstOrDefaultAsync(b => b.Id == baselineId, ct) ?? throw new ResetRefusedException("No such baseline.");

    private static Task<ResetRun?> ActiveRunAsync(PanelDbContext db, CancellationToken ct) => db.ResetRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Active, ct);

    private static ResetRefusedException Busy(ResetRun active) => new(
        $"A reset to baseline \"{active.BaselineName}\" asked for by {active.RequestedBy} at {active.RequestedAt:HH:mm:ss} UTC is " +
        $"{Vocabulary.Display(active.Status)}; only one reset runs at a time. Wait until it has finished and try again; nothing was changed.")
    {
        Busy = true,
    };

    private static string DescribeRequest(ResetRequest request) =>
        $"baseline {request.BaselineId?.ToString() ?? ResetOptions.FactoryName}, " +
        (request.Services is { Count: > 0 } services ? string.Join(", ", services.Select(StackControl.Printable)) : "whole stack");

    /// <summary>Role check at the moment of the action, then the action on a context of its own, audited.</summary>
    private Task<T> ActAsync<T>(string action, string target, Func<string, PanelDbContext, Task<T>> work, CancellationToken ct) =>
        gate.RunAuditedAsync(PanelRoles.Instructor, audit, dbs, action, target, work, ct);
}
