using System.Text.RegularExpressions;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups.Jobs;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Schedules;
using GrafanaPanel.Web.Features.Stack;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>A refused backup action (unknown set, pinned set, bad volume...); the message says why.</summary>
public sealed class BackupActionRefusedException(string message) : PanelRefusalException(message);

/// <summary>What the schedule form submits.</summary>
public sealed record ScheduleInput(
    string Name, IReadOnlyList<string> Volumes, string Cron, string TimeZone, BackupMode Mode, int? KeepLast, TimeSpan? MaxAge);

/// <summary>The Backups page's view of the feature: reads for everyone signed in, actions for Instructor and Admin.</summary>
public interface IBackupService
{
    Task<IReadOnlyList<BackupSet>> ListSetsAsync(CancellationToken ct = default);

    Task<IReadOnlyList<BackupSchedule>> ListSchedulesAsync(CancellationToken ct = default);

    /// <summary>The stack's named volumes a set may hold (the portal's own are never offered).</summary>
    IReadOnlyList<string> AvailableVolumes();

    /// <summary>Whether the current user may act (the actions check again on the server).</summary>
    Task<bool> CanManageAsync();

    Task<Guid> CreateBackupAsync(IReadOnlyList<string> volumes, BackupMode mode, CancellationToken ct = default);

    Task RestoreAsync(Guid setId, IReadOnlyList<string>? volumes = null, string? intoNewVolume = null, CancellationToken ct = default);

    Task VerifyAsync(Guid setId, bool testRestore, CancellationToken ct = default);

    Task SetPinnedAsync(Guid setId, bool pinned, CancellationToken ct = default);

    Task DeleteAsync(Guid setId, CancellationToken ct = default);

    Task RescanAsync(CancellationToken ct = default);

    Task<Guid> CreateScheduleAsync(ScheduleInput input, CancellationToken ct = default);

    Task UpdateScheduleAsync(Guid scheduleId, ScheduleInput input, CancellationToken ct = default);

    Task DeleteScheduleAsync(Guid scheduleId, CancellationToken ct = default);

    Task SetPausedAsync(Guid scheduleId, bool paused, CancellationToken ct = default);

    Task RunScheduleNowAsync(Guid scheduleId, CancellationToken ct = default);

    Task<IReadOnlyList<Guid>> ApplyRetentionAsync(Guid scheduleId, CancellationToken ct = default);
}

/// <summary>
/// The entry points of the backup feature. Every action checks the role against the database at the moment of the
/// action, records itself in the audit log (also when refused), and hands the work to a Hangfire job by id.
/// </summary>
public sealed partial class BackupService(
    IDbContextFactory<PanelDbContext> dbs,
    RoleGate gate,
    IAuditLog audit,
    IBackgroundJobClient jobs,
    IBackupQueue queue,
    IEnumerable<ISetPinHolder> pinHolders,
    BackupScheduler scheduler,
    BackupRetention retention,
    BackupFolders folders,
    StackSnapshot snapshot,
    TimeProvider time) : IBackupService
{
    public async Task<IReadOnlyList<BackupSet>> ListSetsAsync(CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.BackupSets.AsNoTracking().Include(s => s.Volumes).OrderByDescending(s => s.CreatedAt).ToListAsync(ct);
    }

    public async Task<IReadOnlyList<BackupSchedule>> ListSchedulesAsync(CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.BackupSchedules.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
    }

    public IReadOnlyList<string> AvailableVolumes() => snapshot.Current.LabVolumeNames;

    public Task<bool> CanManageAsync() => gate.AllowsAsync(PanelRoles.Instructor);

    public Task<Guid> CreateBackupAsync(IReadOnlyList<string> volumes, BackupMode mode, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.Create, string.Join(",", volumes), async (user, db) =>
        {
            var chosen = CheckVolumes(volumes);
            var set = BackupSet.NewRunning(chosen, mode, BackupTrigger.Manual, user, scheduleId: null);
            db.BackupSets.Add(set);
            await db.SaveChangesAsync(ct);
            var id = set.Id;
            queue.Enqueue(id);
            return id;
        }, ct);

    public Task RestoreAsync(Guid setId, IReadOnlyList<string>? volumes = null, string? intoNewVolume = null, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.Restore, $"{setId}" + (volumes is null ? "" : $" {string.Join(",", volumes)}") + (intoNewVolume is null ? "" : $" -> {intoNewVolume}"), async (user, db) =>
        {
            var set = await CompletedSetAsync(db, setId, ct);
            var names = volumes is { Count: > 0 } ? volumes.Distinct(StringComparer.Ordinal).ToArray() : null;
            foreach (var name in names ?? [])
            {
                if (set.Volumes.All(v => v.VolumeName != name))
                {
                    throw new BackupActionRefusedException($"The set does not hold a volume named '{name}'.");
                }
            }

            string? target = null;
            if (!string.IsNullOrWhiteSpace(intoNewVolume))
            {
                target = intoNewVolume.Trim();
                if (names is not { Length: 1 })
                {
                    throw new BackupActionRefusedException("Restoring into a new volume takes exactly one volume of the set.");
                }

                if (!VolumeName().IsMatch(target) || target.Length > 200)
                {
                    throw new BackupActionRefusedException($"'{target}' is not a valid volume name: letters, digits, '_', '.' and '-', starting with a letter or digit.");
                }

                if (snapshot.Current.Volumes.Any(v => v.Name == target))
                {
                    throw new BackupActionRefusedException($"A volume named '{target}' already exists; choose a new name.");
                }
            }

            jobs.Enqueue<RestoreJob>(job => job.RunAsync(setId, names, target, user, CancellationToken.None));
            return true;
        }, ct);

    public Task VerifyAsync(Guid setId, bool testRestore, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.Verify, $"{setId}{(testRestore ? " test-restore" : "")}", async (user, db) =>
        {
            await CompletedSetAsync(db, setId, ct);
            jobs.Enqueue<VerifyJob>(job => job.RunAsync(setId, testRestore, user, CancellationToken.None));
            return true;
        }, ct);

    public Task SetPinnedAsync(Guid setId, bool pinned, CancellationToken ct = default) =>
        ActAsync(pinned ? BackupAuditActions.Pin : BackupAuditActions.Unpin, setId.ToString(), async (_, db) =>
        {
            var set = await db.BackupSets.FirstOrDefaultAsync(s => s.Id == setId, ct)
                ?? throw new BackupActionRefusedException("No such backup set.");
            foreach (var holder in pinHolders)
            {
                if (!pinned && await holder.WhyPinnedAsync(setId, ct) is { } reason)
                {
                    throw new BackupActionRefusedException($"The set is {reason}");
                }
            }

            set.Pinned = pinned;
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);

    public Task DeleteAsync(Guid setId, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.Delete, setId.ToString(), async (_, db) =>
        {
            var set = await db.BackupSets.FirstOrDefaultAsync(s => s.Id == setId, ct)
                ?? throw new BackupActionRefusedException("No such backup set.");
            if (set.Pinned)
            {
                throw new BackupActionRefusedException("The set is pinned (a baseline or kept on purpose); unpin it first.");
            }

            if (set.Status == BackupSetStatus.Running)
            {
                throw new BackupActionRefusedException("The backup is still running.");
            }

            if (await BackupRetention.NewestVerifiedAsync(db, ct) == set.Id)
            {
                throw new BackupActionRefusedException("This is the newest verified backup set; it is kept until a newer set is verified.");
            }

            folders.DeleteSet(set.Folder);
            db.BackupSets.Remove(set);
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);

    public Task RescanAsync(CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.Rescan, "catalog", (user, _) =>
        {
            jobs.Enqueue<CatalogRescanJob>(job => job.RunAsync(user, CancellationToken.None));
            return Task.FromResult(true);
        }, ct);

    public Task<Guid> CreateScheduleAsync(ScheduleInput input, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.ScheduleCreate, input.Name, (user, db) =>
            ScheduleSteps.CreateAsync<BackupSchedule>(db, user, time, schedule => ApplyInputAsync(db, schedule, input, ct), scheduler.Sync, ct), ct);

    public Task UpdateScheduleAsync(Guid scheduleId, ScheduleInput input, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.ScheduleUpdate, input.Name, async (_, db) =>
        {
            var schedule = await ScheduleAsync(db, scheduleId, ct);
            var oldName = schedule.Name;
            await ScheduleSteps.UpdateAsync(db, schedule, s => ApplyInputAsync(db, s, input, ct), s =>
            {
                if (oldName != s.Name)
                {
                    scheduler.Renamed(oldName);
                }

                scheduler.Sync(s);
            }, ct);
            return true;
        }, ct);

    public Task DeleteScheduleAsync(Guid scheduleId, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.ScheduleDelete, scheduleId.ToString(), async (_, db) =>
        {
            // The schedule's sets stay: deleting a schedule never deletes backups.
            await ScheduleSteps.DeleteAsync(db, await ScheduleAsync(db, scheduleId, ct), scheduler.Remove, ct);
            return true;
        }, ct);

    public Task SetPausedAsync(Guid scheduleId, bool paused, CancellationToken ct = default) =>
        ActAsync(paused ? BackupAuditActions.SchedulePause : BackupAuditActions.ScheduleResume, scheduleId.ToString(), async (_, db) =>
        {
            await ScheduleSteps.SetPausedAsync(db, await ScheduleAsync(db, scheduleId, ct), paused, scheduler.Sync, ct);
            return true;
        }, ct);

    public Task RunScheduleNowAsync(Guid scheduleId, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.ScheduleRunNow, scheduleId.ToString(), async (_, db) =>
        {
            await ScheduleAsync(db, scheduleId, ct);
            jobs.Enqueue<ScheduledBackupJob>(job => job.RunAsync(scheduleId, CancellationToken.None));
            return true;
        }, ct);

    public Task<IReadOnlyList<Guid>> ApplyRetentionAsync(Guid scheduleId, CancellationToken ct = default) =>
        ActAsync(BackupAuditActions.Retention, scheduleId.ToString(), async (_, db) =>
        {
            await ScheduleAsync(db, scheduleId, ct);
            return await retention.ApplyAsync(scheduleId, ct);
        }, ct);

    private async Task ApplyInputAsync(PanelDbContext db, BackupSchedule schedule, ScheduleInput input, CancellationToken ct)
    {
        var timing = await ScheduleTiming.CheckAsync(input.Name, input.Cron, input.TimeZone, time.GetUtcNow(), "schedule",
            name => db.BackupSchedules.AnyAsync(s => s.Name == name && s.Id != schedule.Id, ct));
        var volumes = CheckVolumes(input.Volumes ?? [], forSchedule: true);
        new RetentionPolicy(input.KeepLast, input.MaxAge).Validate();
        timing.ApplyTo(schedule);
        schedule.Volumes = [.. volumes];
        schedule.Mode = input.Mode;
        schedule.KeepLast = input.KeepLast;
        schedule.MaxAge = input.MaxAge;
    }

    private IReadOnlyList<string> CheckVolumes(IReadOnlyList<string> volumes, bool forSchedule = false)
    {
        var chosen = volumes.Select(v => v?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList();
        string Refuse(string message) => forSchedule ? throw new ScheduleValidationException(message) : throw new BackupActionRefusedException(message);
        if (chosen.Count == 0)
        {
            Refuse("Choose at least one volume.");
        }

        var view = snapshot.Current;
        var allowed = view.LabVolumeNames;
        foreach (var name in chosen)
        {
            if (allowed.Contains(name))
            {
                continue;
            }

            Refuse(view.Volumes.Any(v => v.Name == name)
                ? $"'{name}' belongs to the portal itself and is never part of a lab backup."
                : $"'{name}' is not a volume of the stack.");
        }

        return chosen;
    }

    private static async Task<BackupSet> CompletedSetAsync(PanelDbContext db, Guid setId, CancellationToken ct)
    {
        var set = await db.BackupSets.AsNoTracking().Include(s => s.Volumes).FirstOrDefaultAsync(s => s.Id == setId, ct)
            ?? throw new BackupActionRefusedException("No such backup set.");
        return set.Status == BackupSetStatus.Completed
            ? set
            : throw new BackupActionRefusedException($"The set is {Vocabulary.Display(set.Status)}" +
                (set.Error is { Length: > 0 } error ? $" ({error})" : "") + "; only a completed set can be used.");
    }

    private static async Task<BackupSchedule> ScheduleAsync(PanelDbContext db, Guid scheduleId, CancellationToken ct) =>
        await db.BackupSchedules.FirstOrDefaultAsync(s => s.Id == scheduleId, ct)
            ?? throw new BackupActionRefusedException("No such schedule.");

    /// <summary>Role check at the moment of the action, then the action on a context of its own, audited.</summary>
    private Task<T> ActAsync<T>(string action, string target, Func<string, PanelDbContext, Task<T>> work, CancellationToken ct) =>
        gate.RunAuditedAsync(PanelRoles.Instructor, audit, dbs, action, target, work, ct);

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex VolumeName();
}
