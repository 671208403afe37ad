using GrafanaPanel.Web.Features.Resets.Jobs;
using GrafanaPanel.Web.Features.Schedules;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>Reset schedules as recurring <see cref="ScheduledResetJob"/>s, through <see cref="RecurringSchedules"/>.</summary>
public sealed class ResetScheduler(RecurringSchedules schedules)
{
    public static string JobId(Guid scheduleId) => $"reset-schedule-{scheduleId:N}";

    public void Sync(ResetSchedule schedule) => schedules.Sync<ScheduledResetJob>(JobId(schedule.Id), schedule);

    public void Remove(Guid scheduleId) => schedules.Remove(JobId(scheduleId));
}
