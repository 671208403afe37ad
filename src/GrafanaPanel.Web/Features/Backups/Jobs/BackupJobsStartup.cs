using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Once the database is ready: marks sets left Running by a killed process as Failed (and records that in the audit
/// log as the set's creator), removes its temporary files, and re-registers every
/// schedule's recurring job (and the weekly verification) so Hangfire matches the catalog.
/// </summary>
public sealed class BackupJobsStartup(IServiceProvider services, DatabaseStatus database, ILogger<BackupJobsStartup> logger)
    : DatabaseStartupWork(services, database, logger)
{
    public const string StoppedDuringBackup = "the portal stopped during the backup";

    protected override string What => "Backup start-up recovery";

    /// <summary>
    /// Removes what a killed process left half-written: <c>*.partial</c> files (never those being written now) and
    /// upload folders (<c>.import-*</c>) older than an hour, so a slow upload running at start-up is not pulled away.
    /// </summary>
    private void CleanupLeftovers(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var partial in Archive.AtomicFile.CleanupPartials(root))
        {
            logger.LogWarning("Removed the temporary file {Path} left by a stopped backup", partial);
        }

        foreach (var upload in Directory.EnumerateDirectories(root, ".import-*"))
        {
            if (Directory.GetLastWriteTimeUtc(upload) < DateTime.UtcNow.AddHours(-1))
            {
                Directory.Delete(upload, recursive: true);
                logger.LogWarning("Removed the abandoned upload folder {Path}", upload);
            }
        }
    }

    protected override async Task RunAsync(IServiceProvider scoped, PanelDbContext db, CancellationToken ct)
    {
        var left = await db.BackupSets.Include(s => s.Volumes).Where(s => s.Status == BackupSetStatus.Running && s.CreatedAt < StartedAt)
            .ToListAsync(ct);
        var audit = scoped.GetRequiredService<IAuditLog>();
        foreach (var set in left)
        {
            var failed = await db.BackupSets.Where(s => s.Id == set.Id && s.Status == BackupSetStatus.Running)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(s => s.Status, BackupSetStatus.Failed)
                    .SetProperty(s => s.Error, StoppedDuringBackup)
                    .SetProperty(s => s.CompletedAt, DateTimeOffset.UtcNow), ct);
            if (failed > 0)
            {
                logger.LogWarning("Backup set {SetId} was left running by a stopped process; marked failed", set.Id);
                await audit.RecordAsync(new AuditRecord(set.CreatedBy, BackupAuditActions.BackupJob, BackupJob.AuditTarget(set), false,
                    StoppedDuringBackup), CancellationToken.None);
            }
        }

        CleanupLeftovers(scoped.GetRequiredService<BackupFolders>().Root);

        var scheduler = scoped.GetRequiredService<BackupScheduler>();
        ScheduleSteps.SyncAll(await db.BackupSchedules.AsNoTracking().ToListAsync(ct), scheduler.Sync, "Schedule", logger);
        scheduler.SyncVerifyAll();
    }
}
