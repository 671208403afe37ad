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
    public static UserAdministration AdministrationFor(IServiceProvider services, ClaimsPrincipal principal)
    {
        var users = services.GetRequiredService<UserManager<PanelUser>>();
        return new UserAdministration(users, new RoleGate(users, new FixedAuthenticationState(principal)), services.GetRequiredService<IAuditLog>());
    }

    private sealed class FixedAuthenticationState(ClaimsPrincipal principal) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(principal));
    }
}
