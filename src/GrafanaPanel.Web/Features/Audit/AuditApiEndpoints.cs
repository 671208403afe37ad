using System.Globalization;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GrafanaPanel.Web.Features.Audit;

/// <summary><c>/api/v1/audit</c>: the audit page's query (paged, newest first) and its CSV export.</summary>
public static class AuditApiEndpoints
{
    public const int MaxTake = 1000;

    public static void MapAuditApi(this RouteGroupBuilder v1)
    {
        var audit = v1.MapGroup("/audit").WithTags("Audit log");
        audit.MapGet("/", async Task<Results<Ok<AuditSearchResult>, ValidationProblem>> (
                [FromQuery] string? user, [FromQuery] string? action, [FromQuery] string? target, [FromQuery] string? from, [FromQuery] string? to,
                [FromQuery] int? skip, [FromQuery] int? take, [FromServices] RoleGate gate, [FromServices] IAuditReader reader, CancellationToken ct) =>
            {
                // The role first, then the fields (the answer to a caller without the role says nothing of them).
                await gate.RequireAsync(PanelRoles.Viewer, ct);
                var (query, problem) = Query(user, action, target, from, to);
                if (problem is not null)
                {
                    return problem;
                }

                if (skip is < 0)
                {
                    return ApiProblems.Field("skip", "skip must be 0 or more.");
                }

                if (take is < 1 or > MaxTake)
                {
                    return ApiProblems.Field("take", $"take must be between 1 and {MaxTake}.");
                }

                return TypedResults.Ok(await reader.SearchAsync(query!, skip ?? 0, take ?? 100, ct));
            })
            .WithSummary("Audit entries, newest first; user, action and target match text they contain, from inclusive, to exclusive (ISO 8601)");

        audit.MapGet("/export.csv", async Task<Results<PushStreamHttpResult, ValidationProblem>> (
                [FromQuery] string? user, [FromQuery] string? action, [FromQuery] string? target, [FromQuery] string? from, [FromQuery] string? to,
                HttpContext http, [FromServices] RoleGate gate, [FromServices] AuditLog log, [FromServices] TimeProvider time) =>
            {
                await gate.RequireAsync(PanelRoles.Viewer, http.RequestAborted);
                var (query, problem) = Query(user, action, target, from, to);
                if (problem is not null)
                {
                    return problem;
                }

                return TypedResults.Stream(body => AuditCsvExport.WriteAsync(body, log.ReadAllAsync(query!, http.RequestAborted), http.RequestAborted),
                    AuditCsvExport.ContentType, $"audit-log-{time.GetUtcNow():yyyyMMdd-HHmmss}.csv");
            })
            .WithSummary("The same entries as RFC 4180 CSV");
    }

    private static (AuditQuery? Query, ValidationProblem? Problem) Query(string? user, string? action, string? target, string? from, string? to)
    {
        DateTimeOffset? fromAt = null, toAt = null;
        if (!string.IsNullOrWhiteSpace(from))
        {
            if (!DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return (null, ApiProblems.Field("from", "from must be a time in ISO 8601, e.g. 2026-12-01T08:00:00Z."));
            }

            fromAt = parsed;
        }

        if (!string.IsNullOrWhiteSpace(to))
        {
            if (!DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return (null, ApiProblems.Field("to", "to must be a time in ISO 8601, e.g. 2026-12-02T08:00:00Z."));
            }

            toAt = parsed;
        }

        return (new AuditQuery(user, action, target, fromAt, toAt), null);
    }
}
