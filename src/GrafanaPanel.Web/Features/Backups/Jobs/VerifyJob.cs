using GrafanaPanel.Web.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>Re-reads a set's archives (and optionally test-restores them) and records the verdict on the set.</summary>
public sealed class VerifyJob(
    PanelDbContext db, IBackupRunner runner, BackupFolders folders, BackupProgressHub progress, TimeProvider time, ILogger<VerifyJob> logger)
{
    // Read-only and idempotent: running twice only records the same verdict twice. One retry (the global default)
    // covers a database hiccup while saving it.
    public async Task RunAsync(Guid setId, bool testRestore, CancellationToken ct)
    {
        var set = await db.BackupSets.FirstOrDefaultAsync(s => s.Id == setId, ct);
        if (set is null || set.Status is BackupSetStatus.Running or BackupSetStatus.Failed)
        {
            return;
        }

        VerifyOutcome outcome;
        try
        {
            outcome = await runner.VerifyAsync(folders.SetPath(set.Folder), testRestore, progress.For(setId, testRestore ? "test-restore" : "verify"), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            outcome = new VerifyOutcome(false, ex.Message, TimeSpan.Zero);
        }
        finally
        {
            progress.Complete(setId);
        }

        set.Verification = outcome.Passed ? VerificationState.Passed : VerificationState.Failed;
        set.VerifiedAt = time.GetUtcNow();
        set.VerificationMessage = outcome.Message.Length <= 2000 ? outcome.Message : outcome.Message[..2000];
        await db.SaveChangesAsync(CancellationToken.None);
        logger.LogInformation("Verification of set {SetId}: {Verdict} ({Message})", setId, set.Verification, outcome.Message);
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
            await verify.RunAsync(id, testRestore: false, ct);
        }
    }
}
