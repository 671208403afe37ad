using System.Diagnostics;
using System.Collections.Concurrent;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Telemetry;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Takes one catalog set (created Running by <see cref="BackupService"/> or <see cref="ScheduledBackupJob"/>) through
/// the engine and records the outcome: sizes, duration, per-volume hashes from the manifest, Completed or Failed, and
/// in the audit log as the set's creator (a user, or <c>schedule:NAME</c>).
/// </summary>
public sealed class BackupJob(
    PanelDbContext db, IBackupRunner runner, IBackupSetRecorder recorder, BackupProgressHub progress, BackupMetrics metrics, IAuditLog audit,
    ILogger<BackupJob> logger)
{
    // Sets being copied by this process. Hangfire may hand out a job again while it still runs (a long backup past
    // the storage's invisibility timeout); the second delivery must not copy the same set again.
    private static readonly ConcurrentDictionary<Guid, byte> InProgress = new();

    // No automatic retry: a retry would copy the volumes again (pausing the lab again) under the same set id, and
    // the set has already been marked Failed with the reason; the user starts a new backup instead.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid setId, CancellationToken ct)
    {
        var set = await db.BackupSets.AsNoTracking().Include(s => s.Volumes).FirstOrDefaultAsync(s => s.Id == setId, ct);
        if (set is null || set.Status != BackupSetStatus.Running)
        {
            // Run twice (at-least-once delivery) or already marked Failed at start-up: nothing to do.
            logger.LogInformation("Backup set {SetId} is {Status}; the job has nothing to do", setId, set?.Status.ToString() ?? "gone");
            return;
        }

        if (!InProgress.TryAdd(setId, 0))
        {
            logger.LogInformation("Backup set {SetId} is already being copied by this process; duplicate delivery ignored", setId);
            return;
        }

        try
        {
            await RunClaimedAsync(set, ct);
        }
        finally
        {
            InProgress.TryRemove(setId, out _);
        }
    }

    private async Task RunClaimedAsync(BackupSet set, CancellationToken ct)
    {
        var setId = set.Id;
        var target = AuditTarget(set);
        var request = new BackupRequest(setId, [.. set.Volumes.Select(v => v.VolumeName)], set.Mode,
            BackupFolders.CompressionOf(set.Compression), BackupFolders.ManifestTrigger(set.Trigger));
        try
        {
            var outcome = await runner.BackupAsync(request, progress.For(setId, "backup"), ct);
            await recorder.CompletedAsync(outcome, CancellationToken.None);
            var bytes = outcome.Manifest.Volumes.Sum(v => v.CompressedBytes);
            metrics.BackupCompleted(outcome.Duration, bytes);
            JobRun.MovedBytes(bytes);
            Activity.Current?.SetTag("backup.set_id", setId.ToString());
            Activity.Current?.SetTag("bytes", bytes);
            await audit.RecordAsync(new AuditRecord(set.CreatedBy, BackupAuditActions.BackupJob, target, true), CancellationToken.None);
            logger.LogInformation("Backup set {SetId} completed: {Bytes} bytes in {Duration}", setId, bytes, outcome.Duration);
        }
        catch (Exception ex)
        {
            var message = ex is OperationCanceledException && ct.IsCancellationRequested ? "the portal stopped during the backup" : ex.Message;
            logger.LogWarning(ex, "Backup set {SetId} failed: {Error}", setId, message);
            await recorder.FailedAsync(setId, message, CancellationToken.None);
            await audit.RecordAsync(new AuditRecord(set.CreatedBy, BackupAuditActions.BackupJob, target, false, message), CancellationToken.None);
            throw;
        }
        finally
        {
            progress.Complete(setId);
        }
    }

    /// <summary>The set and its volumes, as an audit entry's target.</summary>
    public static string AuditTarget(BackupSet set) => $"{set.Id} {string.Join(",", set.Volumes.Select(v => v.VolumeName))}";
}
