using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Hosting;

public static class HealthHistoryExtensions
{
    /// <summary>
    /// The probes' history and the measured lab volume sizes in PostgreSQL. A singleton over the context factory, so the prober (a singleton
    /// or hosted service) and pages can both take it; each call opens its own short-lived context.
    /// </summary>
    public static void AddPanelHealthHistory(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IHealthHistory, HealthHistory>();
        builder.Services.AddSingleton<IVolumeSizeHistory, VolumeSizeHistory>();
    }
}
