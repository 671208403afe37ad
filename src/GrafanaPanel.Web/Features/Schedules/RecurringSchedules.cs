using Hangfire;

namespace GrafanaPanel.Web.Features.Schedules;

/// <summary>
/// Keeps Hangfire's recurring jobs in line with schedules of any kind: an active schedule is a recurring
/// <typeparamref name="TRun"/> in its time zone under its job id; a paused or deleted one has none. Pausing and
/// resuming is <see cref="Sync{TRun}"/> after the flag changed.
/// </summary>
public sealed class RecurringSchedules(IRecurringJobManager recurring, TimeProvider time)
{
    /// <summary>Registers (or, when paused, removes) the schedule's recurring job; returns its cron, null when paused.</summary>
    /// <exception cref="ScheduleValidationException">The stored cron or time zone cannot be used.</exception>
    public CronSchedule? Sync<TRun>(string jobId, ISchedule schedule)
        where TRun : IScheduledRun
    {
        if (schedule.Paused)
        {
            Remove(jobId);
            return null;
        }

        var cron = CronSchedule.Parse(schedule.Cron, schedule.TimeZone, time.GetUtcNow());
        var id = schedule.Id;
        recurring.AddOrUpdate<TRun>(jobId, run => run.RunAsync(id, CancellationToken.None), cron.Text,
            new RecurringJobOptions { TimeZone = cron.Zone });
        return cron;
    }

    public void Remove(string jobId) => recurring.RemoveIfExists(jobId);
}
