using System.Net;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Accounts;

public sealed class SignInTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new PanelAppFactory()
        .With("Panel:SignIn:MaxFailedAttempts", "3");

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task The_first_admin_is_created_from_the_environment_and_can_sign_in()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
        var admin = await users.FindByEmailAsync(PanelAppFactory.AdminEmail);

        Assert.NotNull(admin);
        Assert.Equal([PanelRoles.Admin], await users.GetRolesAsync(admin));
        using var client = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        var home = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    [Fact]
    public async Task A_wrong_password_sends_the_user_back_with_a_message()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();

        var response = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, "not-the-password");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("error=Wrong", response.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task The_account_locks_after_the_configured_number_of_failures_with_the_same_message_as_a_wrong_password()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();
        var wrong = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, "wrong-password-0");
        for (var i = 1; i < 3; i++)
        {
            await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, "wrong-password-" + i);
        }

        // Even the right password is refused now, and the answer does not tell a locked account from a wrong password.
        var locked = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        Assert.Equal(wrong.Headers.Location, locked.Headers.Location);
        Assert.Contains(SignInEndpoints.FailedSignInMessage, Uri.UnescapeDataString(locked.Headers.Location!.OriginalString));
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode);
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
        Assert.True(await users.IsLockedOutAsync((await users.FindByEmailAsync(PanelAppFactory.AdminEmail))!));
    }

    [Theory]
    [InlineData("https://evil.example/steal", "/")]
    [InlineData("//evil.example", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("/admin/users", "/admin/users")]
    public async Task Sign_in_follows_only_local_return_urls(string returnUrl, string expected)
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();

        var response = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_sign_in_post_without_antiforgery_token_is_refused()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();

        var response = await client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = PanelAppFactory.AdminEmail,
            ["Password"] = PanelAppFactory.AdminPassword,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie") && response.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("GrafanaPanel.Auth")));
    }

    [Fact]
    public async Task The_auth_cookie_is_http_only_same_site_and_bounded()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();

        var response = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("GrafanaPanel.Auth="));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
    }
}

public sealed class SignInRateLimitTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new PanelAppFactory().With("Panel:SignIn:AttemptsPerMinute", "4");

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task Sign_in_answers_429_past_the_limit_even_with_a_forged_forwarded_for()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            // A forged X-Forwarded-For must not buy a fresh allowance.
            client.DefaultRequestHeaders.Remove("X-Forwarded-For");
            client.DefaultRequestHeaders.Add("X-Forwarded-For", $"203.0.113.{i}");
            statuses.Add((await PanelAppFactory.SignInAsync(client, "nobody@panel.test", "wrong-password")).StatusCode);
        }

        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.Redirect));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        // The limit is on signing in, not on reading pages.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
    }
}
