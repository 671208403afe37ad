using Microsoft.Playwright;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>Debian's Chromium driven by Playwright; Playwright never downloads a browser here.</summary>
public sealed class Browser : IAsyncDisposable
{
    private IPlaywright? _playwright;

    public IBrowser Instance { get; private set; } = default!;

    public static async Task<Browser> LaunchAsync()
    {
        var executable = Environment.GetEnvironmentVariable("GRAFANAPANEL_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Chromium was not found at {executable}. Install Debian's chromium (scripts/test.sh does) or set GRAFANAPANEL_CHROMIUM.");
        }

        var browser = new Browser { _playwright = await Playwright.CreateAsync() };
        browser.Instance = await browser._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
        return browser;
    }

    /// <summary>Opens a page and waits until the Blazor circuit is interactive, so no click is lost.</summary>
    public static async Task GotoInteractiveAsync(IPage page, string url)
    {
        await page.GotoAsync(url);
        await page.Locator("[data-test=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
    }

    public static async Task SignInAsync(IPage page, string baseUrl, string email, string password)
    {
        await page.GotoAsync($"{baseUrl}/account/login");
        await page.FillAsync("input[name=Email]", email);
        await page.FillAsync("input[name=Password]", password);
        await page.ClickAsync("[data-test=login-submit]");
        await page.Locator("[data-test=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
    }

    /// <summary>
    /// Collects, from now on, every response of <paramref name="baseUrl"/>'s origin that answered 400 or more and
    /// every request to it that failed (an aborted one, e.g. a long poll cut by navigation, is no failure).
    /// </summary>
    public static IReadOnlyCollection<string> TrackFailedRequests(IPage page, string baseUrl)
    {
        var origin = new Uri(baseUrl).GetLeftPart(UriPartial.Authority);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 400 && response.Url.StartsWith(origin, StringComparison.Ordinal))
            {
                failures.Enqueue($"{response.Status} {response.Request.Method} {response.Url}");
            }
        };
        page.RequestFailed += (_, request) =>
        {
            if (request.Url.StartsWith(origin, StringComparison.Ordinal) && request.Failure != "net::ERR_ABORTED")
            {
                failures.Enqueue($"{request.Failure} {request.Method} {request.Url}");
            }
        };
        return failures;
    }

    /// <summary>
    /// The page a newcomer sees works: signed in, every style sheet loaded with its rules, the Blazor circuit
    /// live, and an interaction answered (the Backups page's Schedules tab, then its New schedule form).
    /// Fails naming every asset of the portal's own origin that did not load.
    /// </summary>
    public static async Task AssertPortalWorksAsync(IPage page, string baseUrl, string email, string password, string? screenshot = null)
    {
        var failures = TrackFailedRequests(page, baseUrl);

        await page.GotoAsync($"{baseUrl}/account/login");
        await AssertStyleSheetsLoadedAsync(page);
        await SignInAsync(page, baseUrl, email, password);
        Assert.True(await page.EvaluateAsync<bool>("() => typeof window.Blazor === 'object'"), "blazor.web.js did not start Blazor.");
        await AssertStyleSheetsLoadedAsync(page);

        await GotoInteractiveAsync(page, $"{baseUrl}/backups");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Schedules" }).ClickAsync();
        await page.Locator("[data-test=schedule-new]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-test=schedule-form]")).ToBeVisibleAsync();
        if (screenshot is not null)
        {
            await SaveScreenshotAsync(page, screenshot);
        }

        Assert.True(failures.Count == 0, $"The portal's page had failing requests:\n{string.Join('\n', failures)}");
    }

    /// <summary>Where GRAFANAPANEL_SCREENSHOTS names a folder, keeps what the browser showed, for a person to look at.</summary>
    public static async Task SaveScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("GRAFANAPANEL_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
        }
    }

    private static async Task AssertStyleSheetsLoadedAsync(IPage page)
    {
        var sheets = await page.EvaluateAsync<string[]>(
            "() => Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => `${l.href} ${l.sheet ? l.sheet.cssRules.length : 0}`)");
        Assert.NotEmpty(sheets);
        var empty = sheets.Where(s => s.EndsWith(" 0", StringComparison.Ordinal)).ToList();
        Assert.True(empty.Count == 0, $"Style sheets without rules (not loaded): {string.Join(", ", empty)}");
    }

    public async ValueTask DisposeAsync()
    {
        if (Instance is not null)
        {
            await Instance.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
