using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Re-reads a set's archives (and optionally test-restores them) and records the verdict on the set and in the audit
/// log. An archive that no longer matches its hash or size, or whose tar is broken, marks the set Corrupt (it can no
/// longer be restored, and retention does not count it as verified); a Corrupt set that verifies again is Completed.
/// </summary>
public sealed class VerifyJob(
    PanelDbContext db, IBackupRunner runner, BackupFolders folders, BackupProgressHub progress, IAuditLog audit, TimeProvider time,
    ILogger<VerifyJob> logger)
{
    /// <summary>A job queued by an earlier version, without the user who asked.</summary>
    public Task RunAsync(Guid setId, bool testRestore, CancellationToken ct) => RunAsync(setId, testRestore, BackupAuditActions.SystemUser, ct);

    // Read-only and idempotent: running twice only records the same verdict twice. One retry (the global default)
    // covers a database hiccup while saving it.
    public async Task RunAsync(Guid setId, bool testRestore, string requestedBy, CancellationToken ct)
    {
        var set = await db.BackupSets.FirstOrDefaultAsync(s => s.Id == setId, ct);
        if (set is null || set.Status is BackupSetStatus.Running or BackupSetStatus.Failed)
        {
            return;
        }

        try
        {
            VerifyOutcome outcome;
            try
            {
                outcome = await runner.VerifyAsync(folders.SetPath(set.Folder), testRestore, progress.For(setId, testRestore ? "test-restore" : "verify"), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                outcome = new VerifyOutcome(false, ex.Message, TimeSpan.Zero);
            }

            set.Verification = outcome.Passed ? VerificationState.Passed : VerificationState.Failed;
            set.VerifiedAt = time.GetUtcNow();
            set.VerificationMessage = outcome.Message.Length <= 2000 ? outcome.Message : outcome.Message[..2000];
            if (outcome.Corrupt)
            {
                set.Status = BackupSetStatus.Corrupt;
                set.Error = set.VerificationMessage;
            }
            else if (outcome.Passed && set.Status == BackupSetStatus.Corrupt)
            {
                set.Status = BackupSetStatus.Completed;
                set.Error = null;
            }

            await db.SaveChangesAsync(CancellationToken.None);
            await audit.RecordAsync(new AuditRecord(requestedBy, BackupAuditActions.VerifyJob, $"{setId}{(testRestore ? " test-restore" : "")}",
                outcome.Passed, outcome.Passed ? null : outcome.Message), CancellationToken.None);
        }
        finally
        {
            // After saving: pages reload the catalog when a job leaves the running list.
            progress.Complete(setId);
        }

        logger.LogInformation("Verification of set {SetId}: {Verdict} ({Message})", setId, set.Verification, set.VerificationMessage);
    }
}

/// <summary>The recurring verification of every completed set (weekly by default).</summary>
public sealed class VerifyAllJob(PanelDbContext db, VerifyJob verify)
{
    public async Task RunAsync(CancellationToken ct)
    {
        var ids = await db.BackupSets.AsNoTracking().Where(s => s.Status == BackupSetStatus.Completed)
            .OrderBy(s => s.CreatedAt).Select(s => s.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            db.ChangeTracker.Clear();
            await verify.RunAsync(id, testRestore: false, BackupAuditActions.SystemUser, ct);
        }
    }
}
