using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.IntegrationTests.Modules;
using Microsoft.Playwright;

namespace GrafanaPanel.IntegrationTests.Browser;

/// <summary>The Modules pages in Chromium, on the portal against the offline stack's Grafana stand-in.</summary>
[Collection(OfflineGrafanaCollection.Name)]
public sealed class ModulesBrowserTests(OfflineGrafana grafana) : IAsyncLifetime
{
    private readonly string _catalog = Path.Combine(Path.GetTempPath(), $"modules-{Guid.NewGuid():N}.yaml");
    private PanelAppFactory _app = default!;
    private Infrastructure.Browser _browser = default!;

    public async ValueTask InitializeAsync()
    {
        await File.WriteAllTextAsync(_catalog, ModuleReadinessOnStackTests.StartedServicesCatalog);
        _app = await ModuleReadinessOnStackTests.StartPortalAsync(grafana, _catalog, realPort: true);
        _browser = await Infrastructure.Browser.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await ((IAsyncLifetime)_app).DisposeAsync();
        File.Delete(_catalog);
    }

    [Fact]
    public async Task An_instructor_sees_the_modules_ready_follows_a_link_into_grafana_runs_the_pre_class_check_and_writes_notes()
    {
        var baseUrl = _app.ServerAddress.TrimEnd('/');
        var context = await _browser.Instance.NewContextAsync();
        var page = await context.NewPageAsync();
        await Infrastructure.Browser.SignInAsync(page, baseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        await page.ClickAsync("[data-test=nav-modules]");
        await page.WaitForURLAsync(url => url.EndsWith("/modules", StringComparison.Ordinal));
        var card = page.Locator("[data-test=module-card][data-module=fundamentals]");
        await Assertions.Expect(card).ToHaveAttributeAsync("data-status", "ready", new() { Timeout = 30_000 });
        await Assertions.Expect(card.Locator("[data-test=readiness-chip]")).ToHaveTextAsync("Ready");
        await Assertions.Expect(page.Locator("[data-test=module-card][data-module=organization]")).ToHaveAttributeAsync("data-status", "ready");

        // A dashboard link opens Grafana's page for that uid in a new tab.
        var popup = await page.RunAndWaitForPopupAsync(() => card.Locator("[data-test=module-link][data-kind=dashboard]").ClickAsync());
        await popup.WaitForLoadStateAsync();
        Assert.Equal($"{grafana.Url}/d/stack-health", popup.Url);
        await Assertions.Expect(popup.Locator("h1")).ToHaveTextAsync("Stack health");
        await popup.CloseAsync();

        // Module links of an organization carry it.
        var organization = page.Locator("[data-test=module-card][data-module=organization] [data-test=module-link][data-kind=dashboard]");
        Assert.Equal($"{grafana.Url}/d/organization-playground?orgId=1", await organization.GetAttributeAsync("href"));
        popup = await page.RunAndWaitForPopupAsync(() => organization.ClickAsync());
        await Assertions.Expect(popup.Locator("h1[data-org-id='1']")).ToHaveTextAsync("Organization playground");
        await popup.CloseAsync();

        await page.ClickAsync("[data-test=run-pre-class]");
        await Assertions.Expect(page.Locator("[data-test=verdict]")).ToHaveTextAsync("Ready with warnings", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-test=check-item][data-status=warning] [data-test=check-title]", new() { HasText = "Last successful backup" }))
            .ToBeVisibleAsync();

        // A module's page: notes with a script and a javascript: link are saved and shown inert.
        await card.Locator("[data-test=module-title]").ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/modules/fundamentals", StringComparison.Ordinal));
        await Infrastructure.Browser.GotoInteractiveAsync(page, page.Url);
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await page.ClickAsync("[data-test=edit-notes]");
        await page.Locator("textarea[data-test=notes-editor], [data-test=notes-editor] textarea").First
            .FillAsync("**Bring coffee** <script>alert('notes')</script> [click](javascript:alert(1)) <img src=x onerror=alert(2)>");
        await page.ClickAsync("[data-test=save-notes]");
        var body = page.Locator("[data-test=notes-body]");
        await Assertions.Expect(body.Locator("strong")).ToHaveTextAsync("Bring coffee");
        await Assertions.Expect(body).ToContainTextAsync("<script>alert('notes')</script>");
        Assert.Equal(0, await body.Locator("script, img, a").CountAsync());

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-test=notes-body] strong")).ToHaveTextAsync("Bring coffee");
        Assert.Equal(0, dialogs);
    }
}
