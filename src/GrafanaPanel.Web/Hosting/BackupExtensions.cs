using GrafanaPanel.Web.Features.Backups;

namespace GrafanaPanel.Web.Hosting;

public static class BackupExtensions
{
    /// <summary>The backup engine (<see cref="IBackupRunner"/>) and its start-up recovery.</summary>
    public static void AddPanelBackups(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BackupOptions>().BindConfiguration(BackupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IRestoredVolumeCheck, ManifestRestoredVolumeCheck>();
        services.AddSingleton<BackupRunner>();
        services.AddSingleton<IBackupRunner>(sp => sp.GetRequiredService<BackupRunner>());
        services.AddSingleton<BackupRecovery>();
        services.AddHostedService<BackupRecoveryService>();
    }
}
