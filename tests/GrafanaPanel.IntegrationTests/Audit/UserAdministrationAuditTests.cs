using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Audit;

public sealed class UserAdministrationAuditTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new();

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
    }

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task Every_user_change_an_admin_makes_is_recorded_with_the_admins_email()
    {
        using var scope = _app.Services.CreateScope();
        var admin = await AdministrationAsAsync(scope, PanelAppFactory.AdminEmail);

        await admin.CreateAsync("made@panel.test", "Made-By-Admin-1", PanelRoles.Viewer);
        var made = (await scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>().FindByEmailAsync("made@panel.test"))!;
        await admin.SetRoleAsync(made.Id, PanelRoles.Instructor);
        await admin.LockAsync(made.Id);
        await admin.UnlockAsync(made.Id);
        await admin.ResetPasswordAsync(made.Id, "Another-Password-2");

        var entries = await EntriesAsync();
        Assert.Equal(
            [
                (AuditActions.UserResetPassword, "made@panel.test"),
                (AuditActions.UserUnlock, "made@panel.test"),
                (AuditActions.UserLock, "made@panel.test"),
                (AuditActions.UserSetRole, "made@panel.test as Instructor"),
                (AuditActions.UserCreate, "made@panel.test as Viewer"),
            ],
            entries.Select(e => (e.Action, e.Target)));
        Assert.All(entries, e =>
        {
            Assert.Equal(PanelAppFactory.AdminEmail, e.User);
            Assert.True(e.Succeeded);
            Assert.Null(e.Error);
        });
        Assert.DoesNotContain(entries, e => e.Target.Contains("Another-Password-2") || e.Target.Contains("Made-By-Admin-1"));
    }

    [Fact]
    public async Task A_refused_change_is_recorded_as_failed_with_the_message_the_admin_saw()
    {
        using var scope = _app.Services.CreateScope();
        var admin = await AdministrationAsAsync(scope, PanelAppFactory.AdminEmail);
        var adminId = (await scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>().FindByEmailAsync(PanelAppFactory.AdminEmail))!.Id;

        var last = await Assert.ThrowsAsync<AccountChangeException>(() => admin.SetRoleAsync(adminId, PanelRoles.Viewer));
        var weak = await Assert.ThrowsAsync<AccountChangeException>(() => admin.CreateAsync("weak@panel.test", "short", PanelRoles.Viewer));
        var missing = await Assert.ThrowsAsync<AccountChangeException>(() => admin.LockAsync("no-such-id"));

        var entries = await EntriesAsync();
        Assert.Equal(
            [
                (AuditActions.UserLock, "user id no-such-id", missing.Message),
                (AuditActions.UserCreate, "weak@panel.test as Viewer", weak.Message),
                (AuditActions.UserSetRole, $"{PanelAppFactory.AdminEmail} as Viewer", last.Message),
            ],
            entries.Select(e => (e.Action, e.Target, e.Error)));
        Assert.All(entries, e => Assert.False(e.Succeeded));
        Assert.All(entries, e => Assert.Equal(PanelAppFactory.AdminEmail, e.User));
        Assert.Contains("last active Admin", entries[2].Error);
    }

    [Fact]
    public async Task A_viewer_calling_the_administration_directly_is_refused_and_recorded_under_their_email()
    {
        using var scope = _app.Services.CreateScope();
        var viewer = await TestAccounts.CreateAsync(scope.ServiceProvider, "viewer@panel.test", PanelRoles.Viewer);
        var administration = await AdministrationAsAsync(scope, viewer.Email!);

        var refused = await Assert.ThrowsAsync<PanelAccessDeniedException>(() => administration.SetRoleAsync(viewer.Id, PanelRoles.Admin));

        var entry = Assert.Single(await EntriesAsync());
        Assert.Equal(("viewer@panel.test", AuditActions.UserSetRole, "viewer@panel.test as Admin", false, refused.Message),
            (entry.User, entry.Action, entry.Target, entry.Succeeded, entry.Error));
        Assert.Contains("needs the Admin role", entry.Error);
    }

    private static async Task<UserAdministration> AdministrationAsAsync(IServiceScope scope, string email)
    {
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>().FindByEmailAsync(email))!;
        return TestAccounts.AdministrationFor(scope.ServiceProvider, await TestAccounts.PrincipalAsync(scope.ServiceProvider, user));
    }

    private async Task<IReadOnlyList<AuditEntry>> EntriesAsync() =>
        (await _app.Services.GetRequiredService<IAuditReader>().SearchAsync(new AuditQuery(Action: "user."), 0, 100, CancellationToken.None)).Entries;
}
