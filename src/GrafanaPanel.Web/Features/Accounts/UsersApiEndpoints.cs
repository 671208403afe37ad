using GrafanaPanel.Web.Features.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>The body of <c>POST /api/v1/users</c>.</summary>
public sealed record NewUserRequest(string? Email, string? Password, string? Role);

/// <summary>The body of <c>PUT /api/v1/users/{id}/role</c>.</summary>
public sealed record RoleRequest(string? Role);

/// <summary>The body of <c>POST /api/v1/users/{id}/password</c>.</summary>
public sealed record PasswordRequest(string? Password);

/// <summary><c>/api/v1/users</c> (Admin): the Users page's administration, with its checks and audit entries.</summary>
public static class UsersApiEndpoints
{
    public static void MapUsersApi(this RouteGroupBuilder v1)
    {
        var users = v1.MapGroup("/users").WithTags("Users");
        users.MapGet("/", async ([FromServices] UserAdministration admin, CancellationToken ct) => TypedResults.Ok(await admin.ListAsync(ct)))
            .WithSummary("Every user with role and state (Admin)");

        users.MapPost("/", async Task<Results<Created, ValidationProblem>> (
                NewUserRequest? body, [FromServices] RoleGate gate, [FromServices] UserAdministration admin, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits anyone else, whatever the body), then the fields.
                if (await gate.AllowsAsync(PanelRoles.Admin) && NewUserProblem(body) is { } problem)
                {
                    return problem;
                }

                await admin.CreateAsync(body?.Email ?? "", body?.Password ?? "", body?.Role ?? "", ct);
                return TypedResults.Created($"{ApiRoutes.Prefix}/users");
            })
            .WithSummary("Create a user (Admin)");

        users.MapPut("/{id}/role", async Task<Results<NoContent, ValidationProblem>> (
                string id, RoleRequest? body, [FromServices] RoleGate gate, [FromServices] UserAdministration admin, CancellationToken ct) =>
            {
                if (await gate.AllowsAsync(PanelRoles.Admin) && !PanelRoles.IsKnown(body?.Role))
                {
                    return UnknownRole();
                }

                await admin.SetRoleAsync(id, body?.Role ?? "", ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Change a user's role (Admin); takes effect on the user's next request");

        users.MapPost("/{id}/lock", async (string id, [FromServices] UserAdministration admin, CancellationToken ct) =>
            {
                await admin.LockAsync(id, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Lock a user (Admin); their sessions and tokens stop working");

        users.MapPost("/{id}/unlock", async (string id, [FromServices] UserAdministration admin, CancellationToken ct) =>
            {
                await admin.UnlockAsync(id, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Unlock a user (Admin)");

        users.MapPost("/{id}/password", async Task<Results<NoContent, ValidationProblem>> (
                string id, PasswordRequest? body, [FromServices] RoleGate gate, [FromServices] UserAdministration admin, CancellationToken ct) =>
            {
                if (await gate.AllowsAsync(PanelRoles.Admin) && string.IsNullOrEmpty(body?.Password))
                {
                    return ApiProblems.Field("password", "A new password is required.");
                }

                await admin.ResetPasswordAsync(id, body?.Password ?? "", ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Set a user's password (Admin)");
    }

    private static ValidationProblem? NewUserProblem(NewUserRequest? body) =>
        string.IsNullOrWhiteSpace(body?.Email) ? ApiProblems.Field("email", "An e-mail address is required.")
        : string.IsNullOrEmpty(body.Password) ? ApiProblems.Field("password", "A password is required.")
        : !PanelRoles.IsKnown(body.Role) ? UnknownRole()
        : null;

    private static ValidationProblem UnknownRole() => ApiProblems.Field("role", $"role must be one of {string.Join(", ", PanelRoles.All)}.");
}
