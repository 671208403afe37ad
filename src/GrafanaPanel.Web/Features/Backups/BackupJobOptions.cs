namespace GrafanaPanel.Web.Features.Backups;

/// <summary>Settings of the backup jobs and endpoints (section <c>Backups</c>, next to <see cref="BackupOptions"/>).</summary>
public sealed class BackupJobOptions
{
    /// <summary>Largest import upload (all files of the set together); larger bodies are refused with 400.</summary>
    public long ImportMaxBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>Cron of the recurring verification of every completed set (UTC); empty turns it off. Default: Sunday 03:30.</summary>
    public string VerifyAllCron { get; set; } = "30 3 * * 0";
}
