using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Jobs;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>
/// The real portal with the real backup engine on a real daemon, managing a test project: Hangfire jobs, the catalog,
/// the audit log and recovery all as in production; only the settings differ (the helper image is the test's busybox,
/// no free-space margin, recovery looks for orphaned journals every second).
/// </summary>
public sealed class EngineBackupAppFactory : BackupPortalFactory
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    public EngineBackupAppFactory(string project, string? backupDirectory = null, string? dockerEndpoint = null)
        : base(backupDirectory)
    {
        With("Stack:ProjectName", project);
        With("Backups:HelperImage", TestProject.Image);
        With("Backups:FreeSpaceMarginBytes", "0");
        With("Backups:RecoveryInterval", "00:00:01");
        if (dockerEndpoint is not null)
        {
            With("Docker:Endpoint", dockerEndpoint);
            With("Docker:RequestTimeout", "00:00:05");
        }
    }

    public StackSnapshot Snapshot => Services.GetRequiredService<StackSnapshot>();

    /// <summary>Database ready, start-up recovery done, and the snapshot showing <paramref name="volumes"/>.</summary>
    public async Task ReadyAsync(params string[] volumes)
    {
        await InitializeAsync();
        await WaitUntilDatabaseReadyAsync();
        await Services.GetRequiredService<BackupJobsStartup>().Done.WaitAsync(Wait);
        await Eventually.HoldsAsync(() => volumes.All(v => Snapshot.Current.Volumes.Any(m => m.Name == v)), Wait, "the snapshot to show the volumes");
    }

    public Task<BackupSet> SetAsync(Guid id) =>
        DbAsync(db => db.BackupSets.AsNoTracking().Include(s => s.Volumes).SingleAsync(s => s.Id == id));

    public Task<BackupSet> WaitForSetAsync(Guid id, Func<BackupSet, bool> done, string what) =>
        Eventually.ReturnsAsync(() => SetAsync(id), done, Wait, $"set {id}: {what}");

    /// <summary>The <paramref name="count"/>-th audit entry of <paramref name="action"/> whose target starts with <paramref name="target"/>.</summary>
    public async Task<AuditEntry> WaitForAuditAsync(string action, string target, int count = 1)
    {
        var entries = await Eventually.ReturnsAsync(
            async () => (await TestAudit.EntriesAsync(this, action)).Where(e => e.Action == action && e.Target.StartsWith(target, StringComparison.Ordinal)).ToList(),
            e => e.Count >= count, Wait, $"{count} audit entries {action} {target}");
        return entries[count - 1];
    }
}
