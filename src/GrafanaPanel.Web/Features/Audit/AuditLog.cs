using System.Globalization;
using System.Runtime.CompilerServices;
using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Audit;

/// <summary>
/// What to show of the audit log: user, action and target match when they contain the text (any case);
/// <see cref="From"/> is inclusive and <see cref="To"/> exclusive. Empty parts do not filter.
/// </summary>
public sealed record AuditQuery(
    string? User = null,
    string? Action = null,
    string? Target = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null)
{
    public const string ExportPath = "/audit/export.csv";

    /// <summary>The CSV export of the same rows (times as ISO 8601, so an offset's '+' survives the query string).</summary>
    public string ExportUrl()
    {
        var parameters = new Dictionary<string, string?>();
        AddText(parameters, "user", User);
        AddText(parameters, "action", Action);
        AddText(parameters, "target", Target);
        if (From is { } from)
        {
            parameters["from"] = from.ToString("o", CultureInfo.InvariantCulture);
        }

        if (To is { } to)
        {
            parameters["to"] = to.ToString("o", CultureInfo.InvariantCulture);
        }

        return QueryHelpers.AddQueryString(ExportPath, parameters);
    }

    private static void AddText(Dictionary<string, string?> parameters, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            parameters[name] = value.Trim();
        }
    }
}

/// <summary>One page of audit entries, newest first, and how many match in all.</summary>
public sealed record AuditSearchResult(IReadOnlyList<AuditEntry> Entries, int TotalCount);

/// <summary>The audit page's query side (a fake stands in for it in component tests).</summary>
public interface IAuditReader
{
    Task<AuditSearchResult> SearchAsync(AuditQuery query, int skip, int take, CancellationToken ct);
}

/// <summary>The audit log in PostgreSQL: features record into it, the page and the CSV export read it.</summary>
public sealed partial class AuditLog(
    IDbContextFactory<PanelDbContext> dbFactory,
    TimeProvider time,
    ILogger<AuditLog> logger) : IAuditLog, IAuditReader
{
    /// <summary>Long enough for a busy database, short enough that an action does not hang on a dead one.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Stores the record. Never throws: by the time an action is recorded it has happened (or been refused),
    /// and failing the caller now would hide that outcome from the user. When the database cannot take the
    /// row (down, timeout, cancelled), the whole record goes to the log instead, so it is not lost.
    /// </summary>
    public async Task RecordAsync(AuditRecord record, CancellationToken ct = default)
    {
        var entry = AuditEntry.From(record, time.GetUtcNow());
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(WriteTimeout);
            await using var db = await dbFactory.CreateDbContextAsync(timeout.Token);
            db.AuditEntries.Add(entry);
            await db.SaveChangesAsync(timeout.Token);
        }
        catch (Exception ex)
        {
            LogRecordLost(logger, ex, record.User, record.Action, record.Target, record.Succeeded, record.Error);
        }
    }

    public async Task<AuditSearchResult> SearchAsync(AuditQuery query, int skip, int take, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var matching = Filter(db.AuditEntries.AsNoTracking(), query);
        var total = await matching.CountAsync(ct);
        var entries = await NewestFirst(matching).Skip(Math.Max(0, skip)).Take(Math.Max(0, take)).ToListAsync(ct);
        return new AuditSearchResult(entries, total);
    }

    /// <summary>Every matching entry, newest first, streamed from the database (for the CSV export).</summary>
    public async IAsyncEnumerable<AuditEntry> ReadAllAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await foreach (var entry in NewestFirst(Filter(db.AuditEntries.AsNoTracking(), query)).AsAsyncEnumerable().WithCancellation(ct))
        {
            yield return entry;
        }
    }

    // The id breaks ties between entries of the same instant, so paging never repeats or skips a row.
    private static IQueryable<AuditEntry> NewestFirst(IQueryable<AuditEntry> entries) =>
        entries.OrderByDescending(e => e.At).ThenByDescending(e => e.Id);

    private static IQueryable<AuditEntry> Filter(IQueryable<AuditEntry> entries, AuditQuery query)
    {
        if (ContainsPattern(query.User) is { } user)
        {
            entries = entries.Where(e => EF.Functions.ILike(e.User, user, LikeEscape));
        }

        if (ContainsPattern(query.Action) is { } action)
        {
            entries = entries.Where(e => EF.Functions.ILike(e.Action, action, LikeEscape));
        }

        if (ContainsPattern(query.Target) is { } target)
        {
            entries = entries.Where(e => EF.Functions.ILike(e.Target, target, LikeEscape));
        }

        // Npgsql writes only UTC offsets to timestamptz.
        if (query.From?.ToUniversalTime() is { } from)
        {
            entries = entries.Where(e => e.At >= from);
        }

        if (query.To?.ToUniversalTime() is { } to)
        {
            entries = entries.Where(e => e.At < to);
        }

        return entries;
    }

    private const string LikeEscape = "\\";

    /// <summary>"%text%" with the user's own % _ and \ taken literally; null when there is nothing to match.</summary>
    private static string? ContainsPattern(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? null
            : "%" + text.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error,
        Message = "Audit entry not stored: {AuditUser} {AuditAction} {AuditTarget} succeeded={Succeeded} error={AuditError}")]
    private static partial void LogRecordLost(ILogger logger, Exception exception, string auditUser, string auditAction, string auditTarget, bool succeeded, string? auditError);
}
