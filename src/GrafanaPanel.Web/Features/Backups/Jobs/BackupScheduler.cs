using Hangfire;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Keeps Hangfire's recurring jobs and the schedule metrics in line with the catalog's schedules: an active schedule
/// is a recurring <see cref="ScheduledBackupJob"/> in its time zone; a paused or deleted one has none.
/// </summary>
public sealed class BackupScheduler(IRecurringJobManager recurring, BackupMetrics metrics, TimeProvider time, IOptions<BackupJobOptions> options)
{
    public const string VerifyAllJobId = "backup-verify-all";

    public static string JobId(Guid scheduleId) => $"backup-schedule-{scheduleId:N}";

    public void Sync(BackupSchedule schedule)
    {
        if (schedule.Paused)
        {
            Remove(schedule);
            return;
        }

        var now = time.GetUtcNow();
        var cron = CronSchedule.Parse(schedule.Cron, schedule.TimeZone, now);
        var id = schedule.Id;
        recurring.AddOrUpdate<ScheduledBackupJob>(JobId(id), job => job.RunAsync(id, CancellationToken.None), cron.Text,
            new RecurringJobOptions { TimeZone = cron.Zone });
        var next = cron.Next(now, 2);
        var interval = next.Count == 2 ? next[1] - next[0] : TimeSpan.FromDays(1);
        metrics.SetSchedule(schedule.Name, schedule.LastSuccessAt ?? schedule.CreatedAt, interval);
    }

    public void Remove(BackupSchedule schedule)
    {
        recurring.RemoveIfExists(JobId(schedule.Id));
        metrics.RemoveSchedule(schedule.Name);
    }

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
