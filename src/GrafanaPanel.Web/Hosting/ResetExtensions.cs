using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Resets.Jobs;

namespace GrafanaPanel.Web.Hosting;

public static class ResetExtensions
{
    /// <summary>Lab resets: baselines, the reset job and its schedules, start-up recovery of interrupted resets.</summary>
    public static void AddPanelResets(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ResetOptions>().BindConfiguration(ResetOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ResetProgressHub>();
        services.AddScoped<ResetScheduler>();
        services.AddScoped<ResetService>();
        services.AddScoped<IResetService>(sp => sp.GetRequiredService<ResetService>());
        services.AddScoped<ResetRunner>();
        // A baseline's set stays pinned: backups ask, without knowing what a baseline is.
        services.AddSingleton<ISetPinHolder, BaselinePins>();
        services.AddScoped<ResetJob>();
        services.AddScoped<ScheduledResetJob>();
        services.AddSingleton<ResetStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<ResetStartup>());
    }

    /// <summary><c>POST /api/resets</c> and <c>GET /api/resets/{id}</c> for scripts.</summary>
    public static void MapPanelResets(this WebApplication app) => app.MapResetEndpoints();
}
