using System.Net;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Accounts;

public sealed class FirstAdminTests
{
    [Fact]
    public async Task Without_admin_settings_a_setup_token_creates_the_first_admin_exactly_once()
    {
        await using var app = new PanelAppFactory().With("Panel:Admin:Email", null).With("Panel:Admin:Password", null);
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            var setupToken = app.Services.GetRequiredService<SetupToken>();
            Assert.True(setupToken.IsActive);
            Assert.Equal(0, await CountUsersAsync(app));

            // The real token is only in the log; issue a known one the same way start-up does.
            var token = setupToken.Issue();
            using var client = app.CreateAnonymousClient();
            var first = await PostSetupAsync(client, token, "first@panel.test", "Setup-Password-1");
            Assert.Equal("/", first.Headers.Location!.OriginalString);

            using var other = app.CreateAnonymousClient();
            var second = await PostSetupAsync(other, token, "second@panel.test", "Setup-Password-2");
            Assert.Contains("not valid", Uri.UnescapeDataString(second.Headers.Location!.OriginalString));

            using var scope = app.Services.CreateScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            var admin = await users.FindByEmailAsync("first@panel.test");
            Assert.NotNull(admin);
            Assert.True(await users.IsInRoleAsync(admin, PanelRoles.Admin));
            Assert.Null(await users.FindByEmailAsync("second@panel.test"));
            Assert.False(setupToken.IsActive);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_weak_admin_password_from_the_environment_is_refused_and_a_setup_link_is_offered()
    {
        await using var app = new PanelAppFactory().With("Panel:Admin:Password", "short");
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();

            Assert.Equal(0, await CountUsersAsync(app));
            Assert.True(app.Services.GetRequiredService<SetupToken>().IsActive);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_wrong_setup_token_creates_nothing()
    {
        await using var app = new PanelAppFactory().With("Panel:Admin:Email", null).With("Panel:Admin:Password", null);
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var client = app.CreateAnonymousClient();

            var response = await PostSetupAsync(client, "guessed-token", "mallory@panel.test", "Setup-Password-1");

            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Contains("not valid", Uri.UnescapeDataString(response.Headers.Location!.OriginalString));
            Assert.Equal(0, await CountUsersAsync(app));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    private static async Task<HttpResponseMessage> PostSetupAsync(HttpClient client, string token, string email, string password)
    {
        var antiforgery = await PanelAppFactory.ReadAntiforgeryTokenAsync(client, "/account/login");
        return await client.PostAsync("/account/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["Token"] = token,
            ["Email"] = email,
            ["Password"] = password,
            ["ConfirmPassword"] = password,
        }));
    }

    private static async Task<int> CountUsersAsync(PanelAppFactory app)
    {
        using var scope = app.Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>().Users.Count();
    }
}
