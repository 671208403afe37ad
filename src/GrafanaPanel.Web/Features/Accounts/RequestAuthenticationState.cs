using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>
/// The signed-in user of one HTTP request, for services written for circuits (they take a <see cref="RoleGate"/>
/// that reads the user from an <see cref="AuthenticationStateProvider"/>) when a plain endpoint calls them.
/// </summary>
public sealed class RequestAuthenticationState(ClaimsPrincipal user) : AuthenticationStateProvider
{
    public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));

    /// <summary>The role check as this request's user, checked against the database at each action.</summary>
    public static RoleGate GateFor(HttpContext http) =>
        new(http.RequestServices.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Data.PanelUser>>(), new RequestAuthenticationState(http.User));
}
