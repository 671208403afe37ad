using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Jobs;

namespace GrafanaPanel.Web.Hosting;

/// <summary>
/// Everything of the backup feature above the Docker-facing engine: the service the UI calls, the Hangfire jobs,
/// progress, metrics and start-up recovery; its download and import endpoints are <see cref="BackupEndpoints"/>. The engine (<see cref="IBackupRunner"/>) is registered
/// by <c>AddPanelBackups</c>.
/// </summary>
public static class BackupJobsExtensions
{
    public static void AddPanelBackupJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BackupJobOptions>().BindConfiguration(BackupOptions.Section);
        services.AddSingleton<BackupProgressHub>();
        services.AddSingleton<IBackupActivity>(sp => sp.GetRequiredService<BackupProgressHub>());
        services.AddSingleton<IBackupQueue, BackupQueue>();
        services.AddSingleton<BackupMetrics>();
        services.AddSingleton<BackupFolders>();
        services.AddScoped<BackupScheduler>();
        services.AddScoped<BackupRetention>();
        services.AddScoped<BackupImport>();
        services.AddScoped<BackupService>();
        services.AddScoped<IBackupService>(sp => sp.GetRequiredService<BackupService>());
        services.AddScoped<BackupJob>();
        services.AddScoped<ScheduledBackupJob>();
        services.AddScoped<RestoreJob>();
        services.AddScoped<VerifyJob>();
        services.AddScoped<VerifyAllJob>();
        services.AddScoped<RetentionJob>();
        services.AddScoped<CatalogRescanJob>();
        services.AddSingleton<BackupJobsStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<BackupJobsStartup>());
    }

    public static void MapPanelBackupJobs(this WebApplication app)
    {
        // Created now so the backup series exist on /metrics before the first backup.
        app.Services.GetRequiredService<BackupMetrics>();

        app.MapBackupEndpoints();
    }
}
