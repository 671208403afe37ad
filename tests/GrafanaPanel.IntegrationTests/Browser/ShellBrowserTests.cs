using GrafanaPanel.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace GrafanaPanel.IntegrationTests.Browser;

public sealed class ShellBrowserTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new() { RealPort = true };
    private Infrastructure.Browser _browser = default!;

    public async ValueTask InitializeAsync()
    {
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
    public async Task An_admin_signs_in_creates_a_viewer_who_sees_no_admin_page_and_signs_out()
    {
        var baseUrl = _app.ServerAddress.TrimEnd('/');
        var adminContext = await _browser.Instance.NewContextAsync();
        var admin = await adminContext.NewPageAsync();

        await Infrastructure.Browser.SignInAsync(admin, baseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        await Assertions.Expect(admin.Locator("[data-test=stack-name]")).ToContainTextAsync("grafana-training");
        await Assertions.Expect(admin.Locator("[data-test=engine-state]")).ToHaveAttributeAsync("data-connected", "true");
        await Assertions.Expect(admin.Locator("[data-test=nav-users]")).ToBeVisibleAsync();

        await Infrastructure.Browser.GotoInteractiveAsync(admin, $"{baseUrl}/admin/users");
        await admin.Locator("[data-test=new-email] input, input[data-test=new-email]").First.FillAsync("viewer@panel.test");
        await admin.Locator("[data-test=new-password] input, input[data-test=new-password]").First.FillAsync("Viewer-Password-1");
        await admin.ClickAsync("[data-test=create-user]");
        await Assertions.Expect(admin.Locator("[data-test=user-email]", new() { HasText = "viewer@panel.test" })).ToBeVisibleAsync();

        var viewerContext = await _browser.Instance.NewContextAsync();
        var viewer = await viewerContext.NewPageAsync();
        await Infrastructure.Browser.SignInAsync(viewer, baseUrl, "viewer@panel.test", "Viewer-Password-1");
        await Assertions.Expect(viewer.Locator("[data-test=user-name]")).ToHaveTextAsync("viewer@panel.test");
        await Assertions.Expect(viewer.Locator("[data-test=nav-users]")).ToHaveCountAsync(0);

        await viewer.GotoAsync($"{baseUrl}/admin/users");
        await Assertions.Expect(viewer.Locator("[data-test=access-denied]")).ToBeVisibleAsync();

        await Infrastructure.Browser.GotoInteractiveAsync(viewer, baseUrl);
        // Signed out, the portal's pages lead back to the sign-in form. The URL is awaited, not the page's load event:
        // the form's visibility is what is asserted.
        await viewer.ClickAsync("[data-test=sign-out]");
        await viewer.WaitForURLAsync(url => url.Contains("/account/login"), new() { WaitUntil = WaitUntilState.Commit });
        await Assertions.Expect(viewer.Locator("[data-test=login-form]")).ToBeVisibleAsync();
        await viewer.GotoAsync(baseUrl);
        await viewer.WaitForURLAsync(url => url.Contains("/account/login"), new() { WaitUntil = WaitUntilState.Commit });
        await Assertions.Expect(viewer.Locator("[data-test=login-form]")).ToBeVisibleAsync();
    }
}
