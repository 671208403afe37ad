using System.Security.Claims;
using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>Thrown when the acting user may not do what was asked; the message says why.</summary>
public sealed class PanelAccessDeniedException(string message, string? requiredRole = null) : PanelRefusalException(message)
{
    public override int StatusCode => StatusCodes.Status403Forbidden;

    /// <summary>The role the action needs, when a missing role (not a missing or locked account) is the reason.</summary>
    public string? RequiredRole { get; } = requiredRole;
}

/// <summary>
/// Checks the acting user's role against the database at the moment of an action, so a user who was
/// demoted, locked or deleted while a circuit is open loses the right at once (claims in the cookie
/// or circuit are not trusted for this).
/// </summary>
public sealed class RoleGate(UserManager<PanelUser> users, AuthenticationStateProvider? authState = null)
{
    /// <summary>The current circuit's user must hold <paramref name="minimumRole"/> or a higher role.</summary>
    public async Task<PanelUser> RequireAsync(string minimumRole, CancellationToken ct = default)
    {
        if (authState is null)
        {
            throw new PanelAccessDeniedException("No signed-in user is known here.");
        }

        var state = await authState.GetAuthenticationStateAsync();
        return await RequireAsync(state.User, minimumRole, ct);
    }

    /// <summary>Whether the current user holds <paramref name="minimumRole"/> now (for showing actions; each action checks again).</summary>
    public async Task<bool> AllowsAsync(string minimumRole)
    {
        try
        {
            await RequireAsync(minimumRole);
            return true;
        }
        catch (PanelAccessDeniedException)
        {
            return false;
        }
    }

    public async Task<PanelUser> RequireAsync(ClaimsPrincipal principal, string minimumRole, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var userId = users.GetUserId(principal);
        var user = userId is null ? null : await users.FindByIdAsync(userId);
        if (user is null)
        {
            throw new PanelAccessDeniedException("You are not signed in. Sign in again.");
        }

        if (await users.IsLockedOutAsync(user))
        {
            throw new PanelAccessDeniedException("Your account is locked. Ask an Admin to unlock it.");
        }

        var roles = await users.GetRolesAsync(user);
        var rank = roles.Select(PanelRoles.Rank).DefaultIfEmpty(0).Max();
        if (rank < PanelRoles.Rank(minimumRole))
        {
            throw new PanelAccessDeniedException($"This action needs the {minimumRole} role; your role is {HighestRole(roles)}.", minimumRole);
        }

        // A personal access token acts with the lower of its scope and the owner's role as the database says now.
        if (principal.FindFirstValue(TokenScopeClaim) is { } scope && PanelRoles.Rank(scope) < PanelRoles.Rank(minimumRole))
        {
            throw new PanelAccessDeniedException(
                $"This action needs the {minimumRole} role; the access token's scope is {scope}" +
                (scope == PanelRoles.Viewer ? " (read-only)." : "."), minimumRole);
        }

        return user;
    }

    /// <summary>The claim a personal access token's principal carries with the token's scope (a role name).</summary>
    public const string TokenScopeClaim = "gp:token-scope";

    /// <summary>Whether the current user acts through a personal access token (not a signed-in session).</summary>
    public async Task<bool> ActsThroughTokenAsync() =>
        authState is not null && (await authState.GetAuthenticationStateAsync()).User.HasClaim(c => c.Type == TokenScopeClaim);

    /// <summary>The user's highest role as the database says now.</summary>
    public async Task<string> RoleOfAsync(PanelUser user) => HighestRole(await users.GetRolesAsync(user));

    /// <summary>
    /// The name the current user signed in with (their e-mail), from the session alone: for the audit log of
    /// an action that was refused before the user was looked up.
    /// </summary>
    public async Task<string> CurrentUserNameAsync()
    {
        if (authState is null)
        {
            return "unknown";
        }

        try
        {
            var state = await authState.GetAuthenticationStateAsync();
            return state.User.Identity?.Name is { Length: > 0 } name ? name : "anonymous";
        }
        catch (InvalidOperationException)
        {
            // Outside a circuit the provider has no state; the caller is recording a failure and must not fail here.
            return "unknown";
        }
    }

    public static string HighestRole(IEnumerable<string> roles) =>
        roles.OrderByDescending(PanelRoles.Rank).FirstOrDefault() ?? "none";
}
