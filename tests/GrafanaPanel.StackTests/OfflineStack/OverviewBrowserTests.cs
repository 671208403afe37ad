using GrafanaPanel.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace GrafanaPanel.StackTests.OfflineStack;

/// <summary>
/// The instructor's first screen against the real compose file on the offline stack: the portal (hosted here, on a
/// real port, with a real PostgreSQL) in Debian's Chromium.
/// </summary>
[Collection(OfflineStackCollection.Name)]
[Trait("Category", "OfflineStack")]
public sealed class OverviewBrowserTests(OfflineStackFixture stack) : IAsyncLifetime
{
    private PanelAppFactory _app = default!;
    private Browser _browser = default!;

    public async ValueTask InitializeAsync()
    {
        stack.EnsureStarted();
        _app = new PanelAppFactory { RealPort = true }
            .With("Stack:ProjectName", stack.ProjectName)
            .With("Stack:PublicHost", "127.0.0.1")
            .With("Stack:ProbeInterval", "00:00:02");
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        _browser = await Browser.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await ((IAsyncLifetime)_app).DisposeAsync();
    }

    [Fact]
    public async Task Every_service_shows_healthy_and_a_stopped_service_turns_red_then_green_with_its_logs()
    {
        var baseUrl = _app.ServerAddress.TrimEnd('/');
        var context = await _browser.Instance.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 } });
        var page = await context.NewPageAsync();
        await Browser.SignInAsync(page, baseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        foreach (var service in stack.LabServices)
        {
            await Assertions.Expect(Card(page, service)).ToHaveAttributeAsync("data-health", "healthy", new() { Timeout = 90_000 });
        }

        // Every service counted healthy (the portal's own container may have joined the stack by now, too).
        await Assertions.Expect(page.Locator("[data-test=healthy-count]")).ToHaveTextAsync(
            new System.Text.RegularExpressions.Regex(@"^(\d+) of \1$"), new() { Timeout = 90_000 });
        var summary = (await page.Locator("[data-test=healthy-count]").TextContentAsync())!.Split(" of ");
        Assert.True(int.Parse(summary[0]) >= stack.LabServices.Count, $"the summary counts {summary[0]} healthy services");
        // The lab volumes' size over time holds the first measurement (the chart draws once it knows its width).
        await Assertions.Expect(page.Locator("[data-test=volume-sizes-chart] circle.mud-chart-point").First).ToBeAttachedAsync(new() { Timeout = 30_000 });
        await SaveScreenshotAsync(page, "overview.png");

        // Stop Alertmanager from the UI: confirm, and watch its card turn red through the live snapshot.
        await Card(page, "alertmanager").Locator("[data-test=stop]").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes" }).ClickAsync();
        await Assertions.Expect(Card(page, "alertmanager")).ToHaveAttributeAsync("data-health", "down", new() { Timeout = 60_000 });
        Assert.Equal("exited", await StateOfAsync("alertmanager"));

        await Card(page, "alertmanager").Locator("[data-test=start]").ClickAsync();
        await Assertions.Expect(Card(page, "alertmanager")).ToHaveAttributeAsync("data-health", "healthy", new() { Timeout = 90_000 });

        // Its page shows its logs, read from the daemon.
        await Card(page, "alertmanager").Locator("[data-test=service-link]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-test=service-name]")).ToHaveTextAsync("alertmanager");
        await Assertions.Expect(page.Locator("[data-test=log-lines] .log-line").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        // The heartbeat (sized by the portal's style sheet) and the latency of the successful probes.
        await Assertions.Expect(page.Locator("[data-test=heartbeat] .beat").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=latency-chart] path.mud-chart-line").First).ToBeAttachedAsync(new() { Timeout = 30_000 });
        await SaveScreenshotAsync(page, "service.png");
    }

    private static ILocator Card(IPage page, string service) => page.Locator($"[data-test=service-card][data-service={service}]");

    private async Task<string> StateOfAsync(string service)
    {
        var result = await OfflineStackFixture.StackScriptAsync("compose.sh", ["ps", "--all", "--format", "{{.State}}", service], TimeSpan.FromMinutes(1));
        return result.StandardOutput.Trim();
    }

    private static Task SaveScreenshotAsync(IPage page, string name) => Browser.SaveScreenshotAsync(page, name);
}
