using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Restores a set (all or some volumes) in place, or one volume into a new volume, through the engine, and records
/// the outcome in the audit log as the user who asked.
/// </summary>
public sealed class RestoreJob(
    PanelDbContext db, IBackupRunner runner, BackupFolders folders, BackupProgressHub progress, IAuditLog audit,
    ILogger<RestoreJob> logger)
{
    /// <summary>A job queued by an earlier version, without the user who asked.</summary>
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid setId, string[]? volumes, string? intoNewVolume, CancellationToken ct) =>
        RunAsync(setId, volumes, intoNewVolume, BackupAuditActions.SystemUser, ct);

    // No automatic retry: a failed restore has already rolled back to its safety backup; repeating it unasked
    // would stop the services and replace the volume again. The user decides.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid setId, string[]? volumes, string? intoNewVolume, string requestedBy, CancellationToken ct)
    {
        var target = $"{setId}" + (volumes is null ? "" : $" {string.Join(",", volumes)}") + (intoNewVolume is null ? "" : $" -> {intoNewVolume}");
        var set = await db.BackupSets.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId, ct);
        if (set is null || set.Status != BackupSetStatus.Completed)
        {
            // Checked when it was asked for, but a verification or rescan may have found the set corrupt since.
            var refusal = set is null
                ? "Nothing was restored: the backup set is gone from the catalog."
                : $"Nothing was restored: the set is {set.Status.ToString().ToLowerInvariant()}" + (set.Error is { Length: > 0 } e ? $" ({e})" : "") +
                  "; only a completed set can be restored.";
            logger.LogWarning("Restore of set {SetId} refused: {Reason}", setId, refusal);
            await audit.RecordAsync(new AuditRecord(requestedBy, BackupAuditActions.RestoreJob, target, false, refusal), CancellationToken.None);
            return;
        }

        try
        {
            var outcome = await runner.RestoreAsync(
                new RestoreRequest(folders.SetPath(set.Folder), volumes, intoNewVolume, RequestedBy: requestedBy), progress.For(setId, "restore"), ct);
            logger.LogInformation("Restored {Volumes} from set {SetId} in {Duration}", string.Join(", ", outcome.Volumes), setId, outcome.Duration);
            await audit.RecordAsync(new AuditRecord(requestedBy, BackupAuditActions.RestoreJob, target, true), CancellationToken.None);
        }
        catch (Exception ex)
        {
            await audit.RecordAsync(new AuditRecord(requestedBy, BackupAuditActions.RestoreJob, target, false, ex.Message), CancellationToken.None);
            throw;
        }
        finally
        {
            // The safety backup is in the catalog already: the engine records it the moment it is complete.
            progress.Complete(setId);
        }
    }
}
