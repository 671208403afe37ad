using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets.Jobs;
using Hangfire;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>Keeps Hangfire's recurring jobs in line with the reset schedules: an active schedule is a recurring
/// <see cref="ScheduledResetJob"/> in its time zone; a paused or deleted one has none.</summary>
public sealed class ResetScheduler(IRecurringJobManager recurring, TimeProvider time)
{
    public static string JobId(Guid scheduleId) => $"reset-schedule-{scheduleId:N}";

    public void Sync(ResetSchedule schedule)
    {
        if (schedule.Paused)
        {
            Remove(schedule.Id);
            return;
        }

        var cron = CronSchedule.Parse(schedule.Cron, schedule.TimeZone, time.GetUtcNow());
        var id = schedule.Id;
        recurring.AddOrUpdate<ScheduledResetJob>(JobId(id), job => job.RunAsync(id, CancellationToken.None), cron.Text,
            new RecurringJobOptions { TimeZone = cron.Zone });
    }

    public void Remove(Guid scheduleId) => recurring.RemoveIfExists(JobId(scheduleId));
}
