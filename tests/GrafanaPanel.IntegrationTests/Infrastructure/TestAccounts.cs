using System.Security.Claims;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>Users and acting principals for tests that call the account services directly, as a circuit would.</summary>
public static class TestAccounts
{
    public const string Password = "Some-Password-123";

    public static async Task<PanelUser> CreateAsync(IServiceProvider services, string email, string role, string password = Password)
    {
        var users = services.GetRequiredService<UserManager<PanelUser>>();
        var user = new PanelUser { UserName = email, Email = email, EmailConfirmed = true };
        Assert.True((await users.CreateAsync(user, password)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
        return user;
    }

    /// <summary>The principal a sign-in of <paramref name="user"/> would produce (claims as of now).</summary>
    public static async Task<ClaimsPrincipal> PrincipalAsync(IServiceProvider services, PanelUser user) =>
        await services.GetRequiredService<IUserClaimsPrincipalFactory<PanelUser>>().CreateAsync(user);

    /// <summary>The user administration as <paramref name="principal"/>'s circuit sees it.</summary>
    public static UserAdministration AdministrationFor(IServiceProvider services, ClaimsPrincipal principal) =>
        new(services.GetRequiredService<UserManager<PanelUser>>(), GateFor(services, principal), services.GetRequiredService<IAuditLog>());

    /// <summary>The role check as <paramref name="principal"/>'s circuit runs it (against the database, at each action).</summary>
    public static RoleGate GateFor(IServiceProvider services, ClaimsPrincipal principal) =>
        new(services.GetRequiredService<UserManager<PanelUser>>(), new FixedAuthenticationState(principal));

    /// <summary>A signed-in <paramref name="role"/> (a new user) and the role check of their circuit.</summary>
    public static async Task<(PanelUser User, RoleGate Gate)> SignedInAsync(IServiceProvider services, string role)
    {
        var user = await CreateAsync(services, $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@panel.test", role);
        return (user, GateFor(services, await PrincipalAsync(services, user)));
    }

    private sealed class FixedAuthenticationState(ClaimsPrincipal principal) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(principal));
    }
}
