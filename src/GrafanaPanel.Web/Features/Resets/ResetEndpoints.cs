using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>The body of <c>POST /api/resets</c> and <c>POST /api/v1/resets</c>.</summary>
/// <param name="Baseline">A baseline's name, or "factory"; empty: the default baseline.</param>
/// <param name="Services">Service names; empty: the whole stack, which needs <paramref name="Confirm"/>.</param>
/// <param name="SafetyBackup">Take a safety backup first (default true).</param>
/// <param name="Confirm">The stack's name, for a whole-stack reset.</param>
public sealed record ResetApiRequest(string? Baseline, IReadOnlyList<string>? Services, bool? SafetyBackup, string? Confirm);

/// <summary>
/// Resets for scripts (e.g. a reset from the host's own scheduler): the same service, checks and audit as the dialog,
/// as the signed-in user of the request. JSON only; a page of another origin on the same host (Grafana's port: the same
/// site, so the cookie is sent) is refused by the cross-origin guard.
/// </summary>
public static class ResetEndpoints
{
    public static void MapResetEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/resets", async (HttpContext http, ResetApiRequest body) =>
        {
            var service = ServiceFor(http);
            try
            {
                var (baselineId, unknown) = await ResetsApiEndpoints.BaselineIdAsync(service, body.Baseline, http.RequestAborted);
                if (unknown is not null)
                {
                    throw new ResetRefusedException(unknown);
                }

                var id = await service.RequestResetAsync(
                    new ResetRequest(baselineId, body.Services, body.SafetyBackup ?? true, body.Confirm), http.RequestAborted);
                return Results.Accepted($"/api/resets/{id}", new { id, status = $"/api/resets/{id}" });
            }
            catch (PanelRefusalException e)
            {
                // 400 for the request itself, 409 while another reset holds the stack, 403 without the role.
                return Results.Json(new { error = e.Message }, statusCode: e.StatusCode);
            }
        }).RequireAuthorization().DisableAntiforgery();

        app.MapGet("/api/resets/{id:guid}", async (HttpContext http, Guid id) =>
            await ServiceFor(http).GetRunAsync(id, http.RequestAborted) is { } run
                ? Results.Json(new
                {
                    run.Id, status = Vocabulary.Name(run.Status), run.BaselineName, run.Services, run.RequestedBy, run.RequestedAt,
                    run.StartedAt, run.FinishedAt, run.DurationMs, run.Error, run.SafetySetId,
                    steps = run.Steps.OrderBy(s => s.Index).Select(s => new { kind = Vocabulary.Name(s.Kind), s.Target, status = Vocabulary.Name(s.Status), s.Message, s.DurationMs }),
                })
                : Results.NotFound(new { error = "No such reset." })).RequireAuthorization();
    }

    private static ResetService ServiceFor(HttpContext http) =>
        ActivatorUtilities.CreateInstance<ResetService>(http.RequestServices, RequestAuthenticationState.GateFor(http));
}
