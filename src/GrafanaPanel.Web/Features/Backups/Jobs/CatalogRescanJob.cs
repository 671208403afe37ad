using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups.Archive;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>What a rescan changed.</summary>
public sealed record RescanResult(IReadOnlyList<Guid> Imported, IReadOnlyList<Guid> Missing, IReadOnlyList<Guid> Corrupt, IReadOnlyList<Guid> Restored);

/// <summary>
/// Reconciles the catalog with the backup directory, which is the truth: a folder with a valid manifest the catalog
/// does not know is imported (trigger import); a listed set whose folder or archive is gone is Missing; one whose
/// archive differs in size or SHA-256 from the catalog is Corrupt; a flagged set whose files are whole again is
/// Completed again. Folders starting with '.' (uploads in progress) are skipped. Safe to run twice. The outcome goes to
/// the audit log as the user who asked, or <c>system</c> (after a restore).
/// </summary>
public sealed class CatalogRescanJob(PanelDbContext db, BackupFolders folders, IAuditLog audit, ILogger<CatalogRescanJob> logger)
{
    public Task<RescanResult> RunAsync(CancellationToken ct) => RunAsync(BackupAuditActions.SystemUser, ct);

    public async Task<RescanResult> RunAsync(string requestedBy, CancellationToken ct)
    {
        try
        {
            var result = await RescanAsync(ct);
            await audit.RecordAsync(new AuditRecord(requestedBy, BackupAuditActions.RescanJob,
                $"catalog: {result.Imported.Count} imported, {result.Missing.Count} missing, {result.Corrupt.Count} corrupt, {result.Restored.Count} whole again",
                true), CancellationToken.None);
            return result;
        }
        catch (Exception ex)
        {
            await audit.RecordAsync(new AuditRecord(requestedBy, BackupAuditActions.RescanJob, "catalog", false, ex.Message), CancellationToken.None);
            throw;
        }
    }

    private async Task<RescanResult> RescanAsync(CancellationToken ct)
    {
        var imported = new List<Guid>();
        var missing = new List<Guid>();
        var corrupt = new List<Guid>();
        var restored = new List<Guid>();
        var sets = await db.BackupSets.Include(s => s.Volumes)
            .Where(s => s.Status == BackupSetStatus.Completed || s.Status == BackupSetStatus.Missing || s.Status == BackupSetStatus.Corrupt)
            .ToListAsync(ct);
        foreach (var set in sets)
        {
            var status = await CheckAsync(set, ct);
            if (status.Status == set.Status)
            {
                continue;
            }

            (status.Status switch
            {
                BackupSetStatus.Missing => missing,
                BackupSetStatus.Corrupt => corrupt,
                _ => restored,
            }).Add(set.Id);
            logger.LogWarning("Rescan: backup set {SetId} is now {Status}: {Problem}", set.Id, status.Status, status.Problem);
            set.Status = status.Status;
            set.Error = status.Problem;
        }

        await db.SaveChangesAsync(ct);

        var knownFolders = await db.BackupSets.Select(s => s.Folder).ToListAsync(ct);
        var knownIds = await db.BackupSets.Select(s => s.Id).ToListAsync(ct);
        var root = folders.Root;
        if (Directory.Exists(root))
        {
            foreach (var path in Directory.EnumerateDirectories(root))
            {
                var name = Path.GetFileName(path);
                if (name.StartsWith('.') || knownFolders.Contains(name) || !File.Exists(Path.Combine(path, BackupManifest.FileName)))
                {
                    continue;
                }

                try
                {
                    var manifest = await BackupManifest.ReadAsync(path, ct);
                    if (knownIds.Contains(manifest.SetId))
                    {
                        logger.LogWarning("Rescan: folder {Folder} holds set {SetId}, which the catalog lists under another folder; skipped", name, manifest.SetId);
                        continue;
                    }

                    // The portal's own safety backups keep their trigger; anything else found on disk came from elsewhere.
                    var trigger = manifest.Trigger is BackupTrigger.PreRestore or BackupTrigger.PreReset ? manifest.Trigger : BackupTrigger.Import;
                    var set = BackupFolders.FromManifest(manifest, name, trigger, "rescan");
                    var check = await CheckAsync(set, ct);
                    set.Status = check.Status;
                    set.Error = check.Problem;
                    db.BackupSets.Add(set);
                    await db.SaveChangesAsync(ct);
                    knownIds.Add(set.Id);
                    imported.Add(set.Id);
                    logger.LogInformation("Rescan imported backup set {SetId} from folder {Folder} ({Status})", set.Id, name, set.Status);
                }
                catch (InvalidManifestException ex)
                {
                    logger.LogWarning("Rescan: folder {Folder} skipped: {Problem}", name, ex.Message);
                }
            }
        }

        return new RescanResult(imported, missing, corrupt, restored);
    }

    private async Task<(BackupSetStatus Status, string? Problem)> CheckAsync(BackupSet set, CancellationToken ct)
    {
        var folder = folders.SetPath(set.Folder);
        if (!Directory.Exists(folder))
        {
            return (BackupSetStatus.Missing, $"The folder '{set.Folder}' is gone from the backup directory.");
        }

        foreach (var volume in set.Volumes)
        {
            var path = folders.ArchivePath(set.Folder, volume.FileName);
            if (!File.Exists(path))
            {
                return (BackupSetStatus.Missing, $"The archive '{volume.FileName}' is gone.");
            }

            try
            {
                await ArchiveVerifier.VerifyHashAsync(path, volume.Sha256, volume.CompressedBytes, ct);
            }
            catch (ArchiveIntegrityException ex)
            {
                return (BackupSetStatus.Corrupt, ex.Message);
            }
        }

        return (BackupSetStatus.Completed, null);
    }
}
