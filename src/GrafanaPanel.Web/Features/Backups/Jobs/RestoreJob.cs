using GrafanaPanel.Web.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>Restores a set (all or some volumes) in place, or one volume into a new volume, through the engine.</summary>
public sealed class RestoreJob(
    PanelDbContext db, IBackupRunner runner, BackupFolders folders, BackupProgressHub progress, IBackgroundJobClient jobs, ILogger<RestoreJob> logger)
{
    // No automatic retry: a failed restore has already rolled back to its safety backup; repeating it unasked
    // would stop the services and replace the volume again. The user decides.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid setId, string[]? volumes, string? intoNewVolume, CancellationToken ct)
    {
        var set = await db.BackupSets.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId, ct);
        if (set is null || set.Status != BackupSetStatus.Completed)
        {
            logger.LogWarning("Restore of set {SetId} skipped: the set is {Status}", setId, set?.Status.ToString() ?? "gone");
            return;
        }

        try
        {
            var outcome = await runner.RestoreAsync(
                new RestoreRequest(folders.SetPath(set.Folder), volumes, intoNewVolume), progress.For(setId, "restore"), ct);
            logger.LogInformation("Restored {Volumes} from set {SetId} in {Duration}", string.Join(", ", outcome.Volumes), setId, outcome.Duration);
        }
        finally
        {
            progress.Complete(setId);
            // The engine writes its safety backup straight to the directory; a rescan lists it in the catalog.
            jobs.Enqueue<CatalogRescanJob>(job => job.RunAsync(CancellationToken.None));
        }
    }
}
