using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.StackTests.Infrastructure;
using Microsoft.Playwright;

namespace GrafanaPanel.StackTests.OfflineStack;

/// <summary>
/// One-click resets of the offline stack from the browser: capture a baseline, change data in several volumes, reset
/// to the baseline by typing the stack's name, watch the steps, and see every service healthy again; and a factory
/// reset. The portal runs here on a real port with a real PostgreSQL, acting on the stack through the real engine.
/// </summary>
[Collection(OfflineStackCollection.Name)]
[Trait("Category", "OfflineStack")]
public sealed class ResetBrowserTests(OfflineStackFixture stack) : IAsyncLifetime
{
    private static readonly string[] Changed = ["grafana_data", "prometheus_data", "postgres_data", "loki_data"];
    private PanelAppFactory _app = default!;
    private Browser _browser = default!;
    private string _backups = "";

    public async ValueTask InitializeAsync()
    {
        stack.EnsureStarted();
        _backups = Directory.CreateTempSubdirectory("gp-stack-resets-").FullName;
        _app = new PanelAppFactory { RealPort = true }
            .With("Stack:ProjectName", stack.ProjectName)
            .With("Stack:PublicHost", "127.0.0.1")
            .With("Stack:ProbeInterval", "00:00:02")
            .With("Backups:Directory", _backups)
            .With("Backups:HelperImage", OfflineStackFixture.HelperImage)
            .With("Resets:HealthTimeout", "00:04:00");
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        _browser = await Browser.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await ((IAsyncLifetime)_app).DisposeAsync();
        Directory.Delete(_backups, recursive: true);
    }

    [Fact]
    public async Task Capture_a_baseline_change_several_volumes_reset_from_the_overview_and_every_service_is_healthy_with_the_baseline_s_data()
    {
        var page = await SignedInPageAsync();

        // Files the baseline holds, with random content, in several services' volumes.
        var kept = new Dictionary<string, string>();
        foreach (var key in Changed)
        {
            kept[key] = await InVolumeAsync(key, "head -c 4096 /dev/urandom > /d/gp-baseline.bin && sha256sum /d/gp-baseline.bin | cut -d' ' -f1");
        }

        // Capture the running stack as a baseline on the Resets page; it turns ready when its backup completes.
        await GoAsync(page, "/resets");
        await page.Locator(".mud-tab", new() { HasText = "Baselines" }).First.ClickAsync();
        await page.Locator("[data-test=baseline-capture]").ClickAsync();
        await page.Locator("[data-test=baseline-name] input, input[data-test=baseline-name]").First.FillAsync("clean stack");
        await page.Locator("[data-test=baseline-save]").ClickAsync();
        var row = page.Locator("[data-test=baseline-row][data-name='clean stack']");
        await Assertions.Expect(row.Locator("[data-test=baseline-state]")).ToHaveTextAsync("ready", new() { Timeout = 180_000 });

        // After the baseline: the kept files change, new files appear, and Prometheus goes on scraping.
        foreach (var key in Changed)
        {
            await InVolumeAsync(key, "echo changed > /d/gp-baseline.bin && echo after > /d/gp-after-baseline.txt");
        }

        // One click on the overview: choose the baseline, see what is replaced, type the stack's name.
        await GoAsync(page, "/");
        await page.Locator("[data-test=reset-lab]").ClickAsync();
        var dialog = page.Locator("[data-test=reset-dialog], .mud-dialog").First;
        await dialog.Locator("[data-test=plan-volumes]").WaitForAsync();
        await dialog.Locator("[data-test=baseline-select]").First.ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "clean stack" }).First.ClickAsync();
        foreach (var key in Changed)
        {
            await Assertions.Expect(dialog.Locator($"[data-test=plan-volume][data-volume='{Volume(key)}']")).ToHaveAttributeAsync("data-action", "restore");
        }

        await Assertions.Expect(dialog.Locator("[data-test=reset-submit]")).ToBeDisabledAsync();
        await dialog.Locator("[data-test=confirm-name] input, input[data-test=confirm-name]").First.FillAsync(stack.ProjectName);
        await dialog.Locator("[data-test=reset-submit]").ClickAsync();

        // The live progress view: steps appear as they run.
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/resets/runs/"));
        await Assertions.Expect(page.Locator("[data-test=run-step][data-kind=restore]").First).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("[data-test=run-step][data-kind=health][data-status=running]").First).ToBeVisibleAsync(new() { Timeout = 180_000 });
        await SaveScreenshotAsync(page, "reset-progress.png");
        await Assertions.Expect(page.Locator("[data-test=run-status]")).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 300_000 });
        await SaveScreenshotAsync(page, "reset-done.png");

        // Every lab service waited for until healthy; the portal's own database is never part of a reset.
        foreach (var service in stack.LabServices.Where(s => s != "panel-db"))
        {
            await Assertions.Expect(page.Locator($"[data-test=run-step][data-kind=health][data-target={service}]")).ToHaveAttributeAsync("data-status", "done");
        }

        await Assertions.Expect(page.Locator("[data-test=run-step][data-target=panel-db]")).ToHaveCountAsync(0);

        // The baseline's data is back byte for byte, what came after it is gone.
        foreach (var key in Changed)
        {
            Assert.Equal(kept[key], await InVolumeAsync(key, "sha256sum /d/gp-baseline.bin | cut -d' ' -f1"));
            Assert.Equal("gone", await InVolumeAsync(key, "test -e /d/gp-after-baseline.txt && echo there || echo gone"));
        }

        // And the overview shows every service healthy.
        await GoAsync(page, "/");
        foreach (var service in stack.LabServices)
        {
            await Assertions.Expect(page.Locator($"[data-test=service-card][data-service={service}]")).ToHaveAttributeAsync("data-health", "healthy", new() { Timeout = 90_000 });
        }
    }

    [Fact]
    public async Task A_factory_reset_empties_the_volumes_and_every_service_initialises_itself_and_comes_back_healthy()
    {
        foreach (var key in Changed)
        {
            await InVolumeAsync(key, "echo lab > /d/gp-factory-marker.txt");
        }

        var page = await SignedInPageAsync();
        await GoAsync(page, "/");
        await page.Locator("[data-test=reset-lab]").ClickAsync();
        var dialog = page.Locator("[data-test=reset-dialog], .mud-dialog").First;
        await dialog.Locator("[data-test=plan-volumes]").WaitForAsync();
        // Factory is the default baseline: every lab volume is emptied, the portal's own are not listed.
        await Assertions.Expect(dialog.Locator("[data-test=plan-volume][data-action=empty]")).ToHaveCountAsync(await LabVolumeCountAsync());
        await dialog.Locator("[data-test=confirm-name] input, input[data-test=confirm-name]").First.FillAsync(stack.ProjectName);
        await dialog.Locator("[data-test=reset-submit]").ClickAsync();

        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/resets/runs/"));
        await Assertions.Expect(page.Locator("[data-test=run-status]")).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 300_000 });
        foreach (var key in Changed)
        {
            Assert.Equal("gone", await InVolumeAsync(key, "test -e /d/gp-factory-marker.txt && echo there || echo gone"));
        }

        await GoAsync(page, "/");
        foreach (var service in stack.LabServices)
        {
            await Assertions.Expect(page.Locator($"[data-test=service-card][data-service={service}]")).ToHaveAttributeAsync("data-health", "healthy", new() { Timeout = 90_000 });
        }
    }

    private string BaseUrl => _app.ServerAddress.TrimEnd('/');

    /// <summary>Opens a page and waits until its circuit is interactive (a click before that would go nowhere).</summary>
    private async Task GoAsync(IPage page, string path)
    {
        await page.GotoAsync(BaseUrl + path);
        await page.Locator("[data-test=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
    }

    private string Volume(string key) => $"{stack.ProjectName}_{key}";

    private async Task<IPage> SignedInPageAsync()
    {
        var context = await _browser.Instance.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 } });
        var page = await context.NewPageAsync();
        await Browser.SignInAsync(page, BaseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        return page;
    }

    private async Task<int> LabVolumeCountAsync()
    {
        var result = await Tool.RunAsync("docker", ["volume", "ls", "-q", "--filter", $"label=com.docker.compose.project={stack.ProjectName}"], TimeSpan.FromSeconds(30));
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(v => !v.EndsWith("_panel_data") && !v.EndsWith("_panel_backups") && !v.EndsWith("_panel_state"));
    }

    /// <summary>Runs a shell script with the volume at /d in a throwaway container of an offline image (it has sh, head and sha256sum).</summary>
    private async Task<string> InVolumeAsync(string key, string script)
    {
        var result = await Tool.RunAsync("docker", ["run", "--rm", "--network", "none", "-v", $"{Volume(key)}:/d", "--entrypoint", "sh", "local/offline-postgres:test", "-c", script],
            TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput.Trim();
    }

    private static async Task SaveScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("GRAFANAPANEL_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
        }
    }
}
