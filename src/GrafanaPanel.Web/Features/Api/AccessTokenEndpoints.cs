using Microsoft.AspNetCore.Http.HttpResults;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>The body of <c>POST /api/v1/tokens</c>.</summary>
/// <param name="Name">What will use the token.</param>
/// <param name="Scope">Viewer (read-only), Instructor or Admin; at most the caller's role.</param>
/// <param name="ExpiresInDays">1 to 366.</param>
public sealed record AccessTokenRequest(string? Name, string? Scope, int? ExpiresInDays);

/// <summary>The caller's own personal access tokens (the same service as the profile page).</summary>
public static class AccessTokenEndpoints
{
    public static void MapAccessTokenEndpoints(this RouteGroupBuilder v1)
    {
        var tokens = v1.MapGroup("/tokens").WithTags("Access tokens");
        tokens.MapGet("/", async (AccessTokens service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(ct)))
            .WithSummary("Your tokens (never their secrets)");
        tokens.MapPost("/", async Task<Results<Created<CreatedAccessToken>, ValidationProblem>> (AccessTokenRequest? body, AccessTokens service, CancellationToken ct) =>
            {
                if (body is null)
                {
                    return ApiProblems.Field("body", "Send a JSON body with name, scope and expiresInDays.");
                }

                var created = await service.CreateAsync(body.Name ?? "", body.Scope ?? Accounts.PanelRoles.Viewer, body.ExpiresInDays ?? 30, ct);
                return TypedResults.Created($"{ApiRoutes.Prefix}/tokens/{created.Token.Id}", created);
            })
            .WithSummary("Create a token; its secret is in this answer only");
        tokens.MapDelete("/{id:guid}", async (Guid id, AccessTokens service, CancellationToken ct) =>
            {
                await service.RevokeAsync(id, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Revoke a token");
    }
}
