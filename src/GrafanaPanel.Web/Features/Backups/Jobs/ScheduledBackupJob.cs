using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Schedules;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>One run of a schedule: a new set (trigger schedule), the backup, then the schedule's retention.</summary>
public sealed class ScheduledBackupJob(
    PanelDbContext db, BackupJob backup, RetentionJob retention, BackupScheduler scheduler, TimeProvider time, ILogger<ScheduledBackupJob> logger) : IScheduledRun
{
    // No automatic retry: a retry would start a second set of the same run; the next occurrence is the retry.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid scheduleId, CancellationToken ct)
    {
        var schedule = await db.BackupSchedules.FirstOrDefaultAsync(s => s.Id == scheduleId, ct);
        if (schedule is null || schedule.Paused)
        {
            logger.LogInformation("Schedule {ScheduleId} is {State}; nothing to do", scheduleId, schedule is null ? "gone" : "paused");
            return;
        }

        // A second delivery of the same run (or a run-now while the schedule is busy) does not start a second copy.
        // Sets left Running by a killed process were marked Failed at start-up, so they do not block.
        if (await db.BackupSets.AnyAsync(s => s.ScheduleId == scheduleId && s.Status == BackupSetStatus.Running, ct))
        {
            logger.LogInformation("Schedule {Name} already has a backup running; this run is skipped", schedule.Name);
            return;
        }

        var set = BackupSet.NewRunning(schedule.Volumes, schedule.Mode, BackupTrigger.Schedule, $"schedule:{schedule.Name}", schedule.Id);
        db.BackupSets.Add(set);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();

        await backup.RunAsync(set.Id, ct);

        schedule = await db.BackupSchedules.FirstAsync(s => s.Id == scheduleId, CancellationToken.None);
        schedule.LastSuccessAt = time.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
        scheduler.Sync(schedule);
        await retention.RunAsync(scheduleId, ct);
    }
}
