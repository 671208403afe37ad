using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Volumes;

namespace GrafanaPanel.Web.Hosting;

public static class BackupExtensions
{
    /// <summary>The backup engine (<see cref="IBackupRunner"/>) and its start-up recovery.</summary>
    public static void AddPanelBackups(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BackupOptions>().BindConfiguration(BackupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IRestoredVolumeCheck, ManifestRestoredVolumeCheck>();
        services.AddSingleton<IBackupSetRecorder, BackupSetRecorder>();
        services.AddSingleton<BackupRunner>();
        services.AddSingleton<IBackupRunner>(sp => sp.GetRequiredService<BackupRunner>());
        // The one way volumes are replaced in place, for restores and resets alike.
        services.AddSingleton<IVolumeReplacer>(sp => sp.GetRequiredService<BackupRunner>().Replacer);
        services.AddSingleton<BackupRecovery>();
        services.AddHostedService<BackupRecoveryService>();
    }
}
