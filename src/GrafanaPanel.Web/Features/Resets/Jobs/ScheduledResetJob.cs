using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Schedules;
using GrafanaPanel.Web.Features.Stack;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Resets.Jobs;

/// <summary>
/// A reset schedule's firing: queues a reset like the dialog does (same checks, same single active reset) and runs
/// it at once. A firing that finds the stack busy is recorded as a failed run saying why, so the history shows it.
/// </summary>
public sealed class ScheduledResetJob(
    PanelDbContext db, ResetService service, ResetRunner runner, StackSnapshot snapshot, IAuditLog audit, TimeProvider time, ILogger<ScheduledResetJob> logger) : IScheduledRun
{
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task RunAsync(Guid scheduleId, CancellationToken ct)
    {
        var schedule = await db.ResetSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == scheduleId, ct);
        if (schedule is null)
        {
            logger.LogWarning("Reset schedule {ScheduleId} is gone; nothing to do", scheduleId);
            return;
        }

        var user = $"schedule:{schedule.Name}";
        Guid runId;
        try
        {
            var baseline = schedule.BaselineId is { } id
                ? await db.Baselines.AsNoTracking().Include(b => b.Set).ThenInclude(s => s!.Volumes).FirstOrDefaultAsync(b => b.Id == id, ct)
                    ?? throw new ResetRefusedException("the schedule's baseline was deleted")
                : null;
            var plan = ResetPlan.Build(snapshot.Current, schedule.Services, baseline);
            runId = await service.QueueAsync(db, plan, schedule.SafetyBackup, user, ResetTrigger.Schedule, schedule.Id, ct);
        }
        catch (ResetRefusedException e)
        {
            var now = time.GetUtcNow();
            db.ResetRuns.Add(new ResetRun
            {
                Id = Guid.NewGuid(), RequestedAt = now, FinishedAt = now, RequestedBy = user, Trigger = ResetTrigger.Schedule, ScheduleId = schedule.Id,
                BaselineId = schedule.BaselineId, BaselineName = "", Services = schedule.Services, SafetyBackup = schedule.SafetyBackup,
                Status = ResetStatus.Failed, Error = $"The scheduled reset did not run: {e.Message}",
            });
            await db.SaveChangesAsync(CancellationToken.None);
            await audit.RecordAsync(new AuditRecord(user, ResetAuditActions.Run, schedule.Name, false, e.Message), CancellationToken.None);
            logger.LogWarning("Scheduled reset {Schedule} did not run: {Reason}", schedule.Name, e.Message);
            return;
        }

        await runner.RunAsync(runId, ct);
    }
}
