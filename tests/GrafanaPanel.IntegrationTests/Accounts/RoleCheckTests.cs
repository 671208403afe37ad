using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Accounts;

public sealed class RoleCheckTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task A_demoted_user_loses_the_right_at_once_although_the_session_still_claims_the_old_role()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
        var user = await TestAccounts.CreateAsync(scope.ServiceProvider, "instructor@panel.test", PanelRoles.Instructor);
        var principal = await TestAccounts.PrincipalAsync(scope.ServiceProvider, user);
        var gate = scope.ServiceProvider.GetRequiredService<RoleGate>();
        await gate.RequireAsync(principal, PanelRoles.Instructor);

        await users.RemoveFromRoleAsync(user, PanelRoles.Instructor);
        await users.AddToRoleAsync(user, PanelRoles.Viewer);

        Assert.True(principal.IsInRole(PanelRoles.Instructor));
        var refused = await Assert.ThrowsAsync<PanelAccessDeniedException>(() => gate.RequireAsync(principal, PanelRoles.Instructor));
        Assert.Contains("Instructor role", refused.Message);
        Assert.Contains("Viewer", refused.Message);
    }

    [Fact]
    public async Task A_locked_user_is_refused_even_with_an_admin_session()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
        var user = await TestAccounts.CreateAsync(scope.ServiceProvider, "second-admin@panel.test", PanelRoles.Admin);
        var principal = await TestAccounts.PrincipalAsync(scope.ServiceProvider, user);

        await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue);

        var gate = scope.ServiceProvider.GetRequiredService<RoleGate>();
        var refused = await Assert.ThrowsAsync<PanelAccessDeniedException>(() => gate.RequireAsync(principal, PanelRoles.Viewer));
        Assert.Contains("locked", refused.Message);
    }

    [Fact]
    public async Task The_user_administration_refuses_a_viewer_called_directly_and_changes_nothing()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
        var viewer = await TestAccounts.CreateAsync(scope.ServiceProvider, "viewer@panel.test", PanelRoles.Viewer);
        var admin = TestAccounts.AdministrationFor(scope.ServiceProvider, await TestAccounts.PrincipalAsync(scope.ServiceProvider, viewer));

        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => admin.CreateAsync("new@panel.test", "Brand-New-Pass-1", PanelRoles.Admin));
        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => admin.SetRoleAsync(viewer.Id, PanelRoles.Admin));

        Assert.Null(await users.FindByEmailAsync("new@panel.test"));
        Assert.Equal([PanelRoles.Viewer], await users.GetRolesAsync(viewer));
    }

    [Fact]
    public async Task An_admin_can_create_users_and_cannot_demote_the_last_admin()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
        var adminUser = (await users.FindByEmailAsync(PanelAppFactory.AdminEmail))!;
        var admin = TestAccounts.AdministrationFor(scope.ServiceProvider, await TestAccounts.PrincipalAsync(scope.ServiceProvider, adminUser));

        await admin.CreateAsync("made@panel.test", "Made-By-Admin-1", PanelRoles.Instructor);
        var weak = await Assert.ThrowsAsync<AccountChangeException>(() => admin.CreateAsync("weak@panel.test", "short", PanelRoles.Viewer));
        var last = await Assert.ThrowsAsync<AccountChangeException>(() => admin.SetRoleAsync(adminUser.Id, PanelRoles.Viewer));

        Assert.Contains("at least", weak.Message);
        Assert.Contains("last active Admin", last.Message);
        var listed = await admin.ListAsync();
        Assert.Contains(listed, u => u.Email == "made@panel.test" && u.Role == PanelRoles.Instructor);
        Assert.DoesNotContain(listed, u => u.Email == "weak@panel.test");
        Assert.True(await users.IsInRoleAsync(adminUser, PanelRoles.Admin));
    }
}
