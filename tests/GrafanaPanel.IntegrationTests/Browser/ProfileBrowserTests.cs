using System.Net.Http.Headers;
using GrafanaPanel.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace GrafanaPanel.IntegrationTests.Browser;

/// <summary>
/// An instructor opens the profile page from the top bar, creates a token, sees its secret once, uses it on the API,
/// and revokes it: the revoked token is refused at once.
/// </summary>
public sealed class ProfileBrowserTests : IAsyncLifetime
{
    private PanelAppFactory _app = default!;
    private Infrastructure.Browser _browser = default!;

    public async ValueTask InitializeAsync()
    {
        _app = new PanelAppFactory { RealPort = true };
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        _browser = await Infrastructure.Browser.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await ((IAsyncLifetime)_app).DisposeAsync();
    }

    [Fact]
    public async Task A_token_made_on_the_profile_page_is_shown_once_works_on_the_api_and_stops_working_when_revoked()
    {
        var baseUrl = _app.ServerAddress.TrimEnd('/');
        var page = await (await _browser.Instance.NewContextAsync()).NewPageAsync();
        await Infrastructure.Browser.SignInAsync(page, baseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        await Infrastructure.Browser.GotoInteractiveAsync(page, $"{baseUrl}/profile");

        await page.Locator("input[data-test=token-name], [data-test=token-name] input").First.FillAsync("nightly reset");
        await page.ClickAsync("[data-test=create-token]");
        var secret = (await page.Locator("[data-test=token-secret]").InnerTextAsync()).Trim();
        Assert.StartsWith("gp_", secret, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("[data-test=token-row-name]")).ToHaveTextAsync("nightly reset");
        await Infrastructure.Browser.SaveScreenshotAsync(page, "profile-token-created.png");

        using var api = new HttpClient { BaseAddress = new Uri(baseUrl) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(200, (int)(await api.GetAsync("/api/v1/stack")).StatusCode);

        // Shown once: after a reload the page lists the token but never its secret.
        await Infrastructure.Browser.GotoInteractiveAsync(page, $"{baseUrl}/profile");
        Assert.DoesNotContain(secret, await page.ContentAsync());
        await page.ClickAsync("[data-test=revoke-token]");

        await Assertions.Expect(page.Locator("[data-test=token-state]")).ToHaveTextAsync("revoked");
        Assert.Equal(401, (int)(await api.GetAsync("/api/v1/stack")).StatusCode);
    }
}
