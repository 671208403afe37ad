using GrafanaPanel.Web.Features.Schedules;

namespace GrafanaPanel.Web.Hosting;

public static class ScheduleExtensions
{
    /// <summary>The schedule building block backups and resets share: recurring Hangfire jobs by schedule.</summary>
    public static void AddPanelSchedules(this WebApplicationBuilder builder) => builder.Services.AddScoped<RecurringSchedules>();
}
