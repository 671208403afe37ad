using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Applies one schedule's retention and records the outcome in the audit log as <c>schedule:NAME</c>; deleting what
/// is already gone is a no-op, so it may run twice.
/// </summary>
public sealed class RetentionJob(PanelDbContext db, BackupRetention retention, IAuditLog audit)
{
    public async Task<IReadOnlyList<Guid>> RunAsync(Guid scheduleId, CancellationToken ct)
    {
        var name = await db.BackupSchedules.AsNoTracking().Where(s => s.Id == scheduleId).Select(s => s.Name).FirstOrDefaultAsync(ct);
        var who = $"schedule:{name ?? scheduleId.ToString()}";
        try
        {
            var deleted = await retention.ApplyAsync(scheduleId, ct);
            await audit.RecordAsync(new AuditRecord(who, BackupAuditActions.RetentionJob, $"{name ?? scheduleId.ToString()}: {deleted.Count} set(s) deleted", true),
                CancellationToken.None);
            return deleted;
        }
        catch (Exception ex)
        {
            await audit.RecordAsync(new AuditRecord(who, BackupAuditActions.RetentionJob, name ?? scheduleId.ToString(), false, ex.Message), CancellationToken.None);
            throw;
        }
    }
}
