using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Resets.Jobs;
using GrafanaPanel.Web.Features.Schedules;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>The reset schedules: create, change, pause, delete and run now, each checked and audited like every action.</summary>
public sealed partial class ResetService
{
    public async Task<IReadOnlyList<ResetSchedule>> ListSchedulesAsync(CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.ResetSchedules.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
    }

    public Task<Guid> CreateScheduleAsync(ResetScheduleInput input, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.ScheduleCreate, input.Name, (user, db) =>
            ScheduleSteps.CreateAsync<ResetSchedule>(db, user, time, schedule => ApplyScheduleInputAsync(db, schedule, input, ct), scheduler.Sync, ct), ct);

    public Task UpdateScheduleAsync(Guid scheduleId, ResetScheduleInput input, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.ScheduleUpdate, input.Name, async (_, db) =>
        {
            await ScheduleSteps.UpdateAsync(db, await ScheduleAsync(db, scheduleId, ct), s => ApplyScheduleInputAsync(db, s, input, ct), scheduler.Sync, ct);
            return true;
        }, ct);

    public Task DeleteScheduleAsync(Guid scheduleId, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.ScheduleDelete, scheduleId.ToString(), async (_, db) =>
        {
            await ScheduleSteps.DeleteAsync(db, await ScheduleAsync(db, scheduleId, ct), s => scheduler.Remove(s.Id), ct);
            return true;
        }, ct);

    public Task SetSchedulePausedAsync(Guid scheduleId, bool paused, CancellationToken ct = default) =>
        ActAsync(paused ? ResetAuditActions.SchedulePause : ResetAuditActions.ScheduleResume, scheduleId.ToString(), async (_, db) =>
        {
            await ScheduleSteps.SetPausedAsync(db, await ScheduleAsync(db, scheduleId, ct), paused, scheduler.Sync, ct);
            return true;
        }, ct);

    public Task RunScheduleNowAsync(Guid scheduleId, CancellationToken ct = default) =>
        ActAsync(ResetAuditActions.ScheduleRunNow, scheduleId.ToString(), async (_, db) =>
        {
            await ScheduleAsync(db, scheduleId, ct);
            jobs.Enqueue<ScheduledResetJob>(job => job.RunAsync(scheduleId, CancellationToken.None));
            return true;
        }, ct);

    private async Task ApplyScheduleInputAsync(PanelDbContext db, ResetSchedule schedule, ResetScheduleInput input, CancellationToken ct)
    {
        var timing = await ScheduleTiming.CheckAsync(input.Name, input.Cron, input.TimeZone, time.GetUtcNow(), "reset schedule",
            name => db.ResetSchedules.AnyAsync(s => s.Name == name && s.Id != schedule.Id, ct));
        if (input.BaselineId is { } baselineId && !await db.Baselines.AnyAsync(b => b.Id == baselineId, ct))
        {
            throw new ScheduleValidationException("The chosen baseline does not exist (any more); choose another.");
        }

        // The scope is checked against the stack now, and again when the schedule fires.
        var plan = ResetPlan.Build(snapshot.Current, input.Services, baseline: null);
        timing.ApplyTo(schedule);
        schedule.BaselineId = input.BaselineId;
        schedule.Services = plan.WholeStack ? [] : [.. plan.Services.Select(s => s.Name)];
        schedule.SafetyBackup = input.SafetyBackup;
    }


    private static async Task<ResetSchedule> ScheduleAsync(PanelDbContext db, Guid scheduleId, CancellationToken ct) =>
        await db.ResetSchedules.FirstOrDefaultAsync(s => s.Id == scheduleId, ct) ?? throw new ResetRefusedException("No such reset schedule.");
}
