using System.Globalization;
using System.Text;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Mvc;

namespace GrafanaPanel.Web.Features.Audit;

/// <summary><c>GET /audit/export.csv</c>: the filtered audit log as RFC 4180 CSV, streamed row by row.</summary>
public static class AuditCsvExport
{
    public const string ContentType = "text/csv; charset=utf-8";

    public static readonly string[] Header = ["At", "User", "Action", "Target", "Outcome", "Error"];

    public static async Task<IResult> ExportAsync(
        string? user,
        string? action,
        string? target,
        DateTimeOffset? from,
        DateTimeOffset? to,
        HttpContext http,
        [FromServices] AuditLog audit,
        [FromServices] RoleGate gate,
        [FromServices] TimeProvider time)
    {
        // The cookie may be up to a minute older than a lock or deletion; the database says now.
        try
        {
            await gate.RequireAsync(http.User, PanelRoles.Viewer, http.RequestAborted);
        }
        catch (PanelAccessDeniedException ex)
        {
            return Results.Text(ex.Message, "text/plain", statusCode: StatusCodes.Status403Forbidden);
        }

        var query = new AuditQuery(user, action, target, from, to);
        var fileName = $"audit-log-{time.GetUtcNow():yyyyMMdd-HHmmss}.csv";
        return Results.Stream(body => WriteAsync(body, audit.ReadAllAsync(query, http.RequestAborted), http.RequestAborted), ContentType, fileName);
    }

    /// <summary>Header, then one CRLF-terminated record per entry; UTF-8 without a byte-order mark.</summary>
    public static async Task WriteAsync(Stream body, IAsyncEnumerable<AuditEntry> entries, CancellationToken ct)
    {
        await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
        await writer.WriteAsync(Record(Header));
        await foreach (var entry in entries.WithCancellation(ct))
        {
            await writer.WriteAsync(Record(
                entry.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                entry.User,
                entry.Action,
                entry.Target,
                entry.Succeeded ? "succeeded" : "failed",
                entry.Error));
        }

        await writer.FlushAsync(ct);
    }

    public static string Record(params string?[] fields) =>
        string.Join(',', fields.Select(Field)) + "\r\n";

    /// <summary>
    /// Every field quoted, quotes doubled (RFC 4180). A cell a spreadsheet would run as a formula (starting
    /// with = + - @, or tab or carriage return, per OWASP's CSV-injection advice) gets a leading single quote,
    /// so user-chosen text such as a target name cannot execute when the export is opened.
    /// </summary>
    public static string Field(string? value)
    {
        value ??= "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return "\"" + value.Replace("\"", "\"\"") + "\"";
    }
}
