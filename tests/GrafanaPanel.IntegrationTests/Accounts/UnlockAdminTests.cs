using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Accounts;

/// <summary>
/// The last Admin is never locked out for good: whoever has the host's shell lifts the lockout with
/// <c>unlock-admin EMAIL</c> (here in-process, on the portal's database), and it is audited.
/// </summary>
public sealed class UnlockAdminTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new PanelAppFactory().With("Panel:SignIn:MaxFailedAttempts", "3");

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task A_locked_out_last_admin_is_unlocked_on_the_host_and_signs_in_again()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();
        for (var i = 0; i < 3; i++)
        {
            await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, "wrong-password-" + i);
        }

        Assert.Contains("error=", (await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword)).Headers.Location!.OriginalString);
        // Locked for good as well (as another Admin's Lock would), not only for the failed attempts' minutes.
        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            await users.SetLockoutEndDateAsync((await users.FindByEmailAsync(PanelAppFactory.AdminEmail))!, DateTimeOffset.MaxValue);
        }

        var (exit, stdout, stderr) = await UnlockAsync(PanelAppFactory.AdminEmail);

        Assert.True(exit == 0, stderr);
        Assert.Contains($"{PanelAppFactory.AdminEmail} is unlocked", stdout);
        Assert.Equal("/", (await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword)).Headers.Location!.OriginalString);
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        Assert.True(await db.AuditEntries.AnyAsync(e =>
            e.Action == AuditActions.UserUnlock && e.User == HostCommands.HostActor && e.Target == PanelAppFactory.AdminEmail && e.Succeeded));
    }

    [Fact]
    public async Task Unlock_admin_refuses_an_unknown_address_a_user_who_is_not_an_admin_and_a_missing_address()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            var instructor = new PanelUser { UserName = "teacher@panel.test", Email = "teacher@panel.test" };
            Assert.True((await users.CreateAsync(instructor, "Teacher-Password-1")).Succeeded);
            await users.AddToRoleAsync(instructor, PanelRoles.Instructor);
            await users.SetLockoutEndDateAsync(instructor, DateTimeOffset.MaxValue);
        }

        var unknown = await UnlockAsync("nobody@panel.test");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("No user signs in with nobody@panel.test", unknown.Stderr);

        var notAdmin = await UnlockAsync("teacher@panel.test");
        Assert.Equal(1, notAdmin.Exit);
        Assert.Contains("is not an Admin", notAdmin.Stderr);
        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            Assert.True(await users.IsLockedOutAsync((await users.FindByEmailAsync("teacher@panel.test"))!));
        }

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(2, await HostCommands.RunAsync([HostCommands.UnlockAdmin], Configuration(), stdout, stderr, TimeProvider.System, CancellationToken.None));
        Assert.Contains("Usage: unlock-admin EMAIL", stderr.ToString());
    }

    private IConfiguration Configuration() =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Panel"] = _app.ConnectionString }).Build();

    private async Task<(int Exit, string Stdout, string Stderr)> UnlockAsync(string email)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await HostCommands.RunAsync([HostCommands.UnlockAdmin, email], Configuration(), stdout, stderr, TimeProvider.System, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
