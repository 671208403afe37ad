using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// The one place that puts a set into the catalog and records it completed or failed, whoever takes it (a backup
/// job, a restore's or a reset's safety copy): a set appears in the catalog the moment it is complete.
/// </summary>
public interface IBackupSetRecorder
{
    /// <summary>Adds <paramref name="set"/> (made by <see cref="BackupSet.NewRunning"/>) as running.</summary>
    Task StartedAsync(BackupSet set, CancellationToken ct);

    /// <summary>Records the written set: its folder, what the manifest says of each archive, its duration.</summary>
    Task CompletedAsync(BackupOutcome outcome, CancellationToken ct);

    /// <summary>Marks a running set failed with the reason.</summary>
    Task FailedAsync(Guid setId, string error, CancellationToken ct);
}

/// <summary>Writes the catalog rows through a context of its own per call, retried through a short database outage.</summary>
public sealed class BackupSetRecorder(IDbContextFactory<PanelDbContext> dbs, TimeProvider time) : IBackupSetRecorder
{
    public async Task StartedAsync(BackupSet set, CancellationToken ct) =>
        await DatabaseRetry.ExecuteAsync(async token =>
        {
            await using var db = await dbs.CreateDbContextAsync(token);
            db.BackupSets.Add(set);
            return await db.SaveChangesAsync(token);
        }, ct);

    public async Task CompletedAsync(BackupOutcome outcome, CancellationToken ct) =>
        await DatabaseRetry.ExecuteAsync(async token =>
        {
            await using var db = await dbs.CreateDbContextAsync(token);
            var set = await db.BackupSets.Include(s => s.Volumes).FirstOrDefaultAsync(s => s.Id == outcome.SetId, token)
                ?? throw new InvalidOperationException($"Backup set {outcome.SetId} is not in the catalog, so its completion cannot be recorded.");
            set.Folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(outcome.Folder));
            BackupFolders.ApplyManifest(set, outcome.Manifest);
            set.DurationMs = (long)outcome.Duration.TotalMilliseconds;
            set.Status = BackupSetStatus.Completed;
            set.CompletedAt = time.GetUtcNow();
            set.Error = null;
            return await db.SaveChangesAsync(token);
        }, ct);

    public async Task FailedAsync(Guid setId, string error, CancellationToken ct) =>
        await DatabaseRetry.ExecuteAsync(async token =>
        {
            await using var db = await dbs.CreateDbContextAsync(token);
            return await db.BackupSets.Where(s => s.Id == setId && s.Status == BackupSetStatus.Running)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(s => s.Status, BackupSetStatus.Failed)
                    .SetProperty(s => s.Error, error.Length <= 2000 ? error : error[..2000])
                    .SetProperty(s => s.CompletedAt, time.GetUtcNow()), token);
        }, ct);
}
