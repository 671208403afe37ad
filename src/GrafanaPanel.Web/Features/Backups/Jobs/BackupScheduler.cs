using GrafanaPanel.Web.Features.Schedules;
using Hangfire;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Backup schedules as recurring <see cref="ScheduledBackupJob"/>s (through <see cref="RecurringSchedules"/>), with
/// their metrics: an active schedule exports its last success and the longest gap between its runs, which the
/// <c>GrafanaPanelBackupStale</c> alert doubles; a paused or deleted one exports nothing.
/// </summary>
public sealed class BackupScheduler(
    RecurringSchedules schedules, IRecurringJobManager recurring, BackupMetrics metrics, TimeProvider time, IOptions<BackupJobOptions> options)
{
    public const string VerifyAllJobId = "backup-verify-all";

    public static string JobId(Guid scheduleId) => $"backup-schedule-{scheduleId:N}";

    public void Sync(BackupSchedule schedule)
    {
        if (schedules.Sync<ScheduledBackupJob>(JobId(schedule.Id), schedule) is not { } cron)
        {
            metrics.RemoveSchedule(schedule.Name);
            return;
        }

        metrics.SetSchedule(schedule.Name, schedule.LastSuccessAt ?? schedule.CreatedAt, cron.LongestGap(time.GetUtcNow()));
    }

    public void Remove(BackupSchedule schedule)
    {
        schedules.Remove(JobId(schedule.Id));
        metrics.RemoveSchedule(schedule.Name);
    }

    /// <summary>A renamed schedule's old name is no longer exported.</summary>
    public void Renamed(string oldName) => metrics.RemoveSchedule(oldName);

    /// <summary>The weekly verification of every set (on by default; an empty cron turns it off).</summary>
    public void SyncVerifyAll()
    {
        var cron = options.Value.VerifyAllCron;
        if (string.IsNullOrWhiteSpace(cron))
        {
            recurring.RemoveIfExists(VerifyAllJobId);
            return;
        }

        var parsed = CronSchedule.Parse(cron, "UTC", time.GetUtcNow());
        recurring.AddOrUpdate<VerifyAllJob>(VerifyAllJobId, job => job.RunAsync(CancellationToken.None), parsed.Text,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
    }
}
