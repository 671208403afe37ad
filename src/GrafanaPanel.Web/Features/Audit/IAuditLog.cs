namespace GrafanaPanel.Web.Features.Audit;

/// <summary>One action taken through the portal: who, what, on which target, and how it ended.</summary>
public sealed record AuditRecord(string User, string Action, string Target, bool Succeeded, string? Error = null);

/// <summary>The audit log every feature records its actions into (stored in PostgreSQL).</summary>
public interface IAuditLog
{
    Task RecordAsync(AuditRecord record, CancellationToken ct = default);
}
