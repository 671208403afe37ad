using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// Applies a schedule's <see cref="RetentionPolicy"/> to its completed sets. Pinned sets (baselines are pinned) and
/// the newest verified set of the whole catalog are never candidates for deletion, whatever the policy says.
/// </summary>
public sealed class BackupRetention(IDbContextFactory<PanelDbContext> dbs, BackupFolders folders, TimeProvider time, ILogger<BackupRetention> logger)
{
    /// <summary>Deletes what the schedule's rules let go; returns the deleted set ids. Safe to run twice.</summary>
    public async Task<IReadOnlyList<Guid>> ApplyAsync(Guid scheduleId, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var schedule = await db.BackupSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == scheduleId, ct);
        if (schedule is null)
        {
            return [];
        }

        var policy = new RetentionPolicy(schedule.KeepLast, schedule.MaxAge);
        var newestVerified = await NewestVerifiedAsync(db, ct);
        var sets = await db.BackupSets
            .Where(s => s.ScheduleId == scheduleId && s.Status == BackupSetStatus.Completed)
            .ToListAsync(ct);
        var doomed = policy.SelectForDeletion(
            sets.Select(s => new RetentionCandidate(s.Id, s.CreatedAt, s.Pinned, IsBaseline: s.Pinned,
                Verified: s.Verification == VerificationState.Passed)),
            time.GetUtcNow()).Where(id => id != newestVerified).ToHashSet();

        var deleted = new List<Guid>();
        foreach (var set in sets.Where(s => doomed.Contains(s.Id)))
        {
            // Files first: a crash in between leaves a row whose folder is gone, which a rescan flags Missing,
            // never files the catalog has forgotten.
            folders.DeleteSet(set.Folder);
            db.BackupSets.Remove(set);
            await db.SaveChangesAsync(ct);
            deleted.Add(set.Id);
            logger.LogInformation("Retention of schedule {Schedule} deleted backup set {SetId} from {CreatedAt}", schedule.Name, set.Id, set.CreatedAt);
        }

        return deleted;
    }

    /// <summary>The newest set that passed verification, which nothing may delete.</summary>
    public static async Task<Guid?> NewestVerifiedAsync(PanelDbContext db, CancellationToken ct) =>
        await db.BackupSets
            .Where(s => s.Status == BackupSetStatus.Completed && s.Verification == VerificationState.Passed)
            .OrderByDescending(s => s.CreatedAt)
            .Select(s => (Guid?)s.Id)
            .FirstOrDefaultAsync(ct);
}
