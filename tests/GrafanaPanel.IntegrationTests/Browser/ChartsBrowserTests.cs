using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrafanaPanel.IntegrationTests.Browser;

/// <summary>
/// The charts as Chromium draws them: kept volume sizes on the overview, probe latency on a service page, reset
/// durations, and a backup set made from the UI. History the portal would gather over days is written ahead.
/// </summary>
public sealed class ChartsBrowserTests : IAsyncLifetime
{
    private readonly TestProject _project = new();
    private readonly DirectoryInfo _backups = Directory.CreateTempSubdirectory("gp-backups-");
    private PanelAppFactory _app = default!;
    private Infrastructure.Browser _browser = default!;
    private string _volume = "";

    public async ValueTask InitializeAsync()
    {
        _volume = await _project.CreateVolumeAsync("grafana_data");
        await _project.RunAsync("grafana", ["-v", $"{_volume}:/var/lib/grafana"], "sh", "-c", "dd if=/dev/zero of=/var/lib/grafana/blob bs=1024 count=3072 && sleep 3600");
        _app = new PanelAppFactory { RealPort = true }
            .With("Stack:ProjectName", _project.Name)
            .With("Backups:Directory", _backups.FullName)
            .With("Backups:HelperImage", TestProject.Image);
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        var snapshot = _app.Services.GetRequiredService<StackSnapshot>();
        await Eventually.HoldsAsync(() => snapshot.Current.Find("grafana") is not null, TimeSpan.FromSeconds(30), "grafana in the snapshot");
        await WriteHistoryAsync();
        _browser = await Infrastructure.Browser.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await ((IAsyncLifetime)_app).DisposeAsync();
        await _project.DisposeAsync();
        _backups.Delete(recursive: true);
    }

    private async Task WriteHistoryAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var sizes = _app.Services.GetRequiredService<IVolumeSizeHistory>();
        for (var hour = 30; hour >= 1; hour--)
        {
            await sizes.AppendAsync(now.AddHours(-hour), [new VolumeView(_volume, (30 - hour) * 64L * 1024)], CancellationToken.None);
        }

        await _app.Services.GetRequiredService<IHealthHistory>().AppendAsync(
            [.. Enumerable.Range(1, 240).Select(i => new ProbeSample("grafana", now.AddMinutes(-5 * i), i % 37 != 0, 12 + i % 9 * 3, "ok"))],
            CancellationToken.None);

        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        db.ResetRuns.AddRange(Enumerable.Range(1, 5).Select(day => new ResetRun
        {
            Id = Guid.NewGuid(),
            RequestedAt = now.AddDays(-day),
            StartedAt = now.AddDays(-day),
            FinishedAt = now.AddDays(-day).AddSeconds(40 + 10 * day),
            RequestedBy = PanelAppFactory.AdminEmail,
            BaselineName = "factory",
            Status = day == 3 ? ResetStatus.Failed : ResetStatus.Succeeded,
            DurationMs = (40 + 10 * day) * 1000,
        }));
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task Every_chart_draws_a_line_with_its_unit_on_the_value_axis()
    {
        var baseUrl = _app.ServerAddress.TrimEnd('/');
        var page = await (await _browser.Instance.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 } })).NewPageAsync();
        var failures = Infrastructure.Browser.TrackFailedRequests(page, baseUrl);
        await Infrastructure.Browser.SignInAsync(page, baseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        await Infrastructure.Browser.GotoInteractiveAsync(page, baseUrl);
        await AssertChartAsync(page.Locator("[data-test=volume-sizes-chart]"), "KiB", "MiB");
        await Assertions.Expect(page.Locator("[data-test=volume-sizes-chart] path.mud-chart-line").First).ToBeVisibleAsync();
        // A measurement asked for now is kept and joins the open chart.
        var markers = page.Locator("[data-test=volume-sizes-chart] circle.mud-chart-point:not(.mud-chart-hover-point)");
        var before = await markers.CountAsync();
        await page.ClickAsync("[data-test=refresh-sizes]");
        await Assertions.Expect(markers).ToHaveCountAsync(before + 1, new() { Timeout = 30_000 });
        await Infrastructure.Browser.SaveScreenshotAsync(page, "overview-charts.png");

        await Infrastructure.Browser.GotoInteractiveAsync(page, $"{baseUrl}/services/grafana");
        await AssertChartAsync(page.Locator("[data-test=latency-chart]"), "ms");
        await Assertions.Expect(page.Locator("[data-test=latency-chart] path.mud-chart-line").First).ToBeVisibleAsync();
        // The heartbeat's beats are empty spans that only the portal's own style sheet gives a size.
        await Assertions.Expect(page.Locator("[data-test=heartbeat] .beat").First).ToBeVisibleAsync();
        await Infrastructure.Browser.SaveScreenshotAsync(page, "service-latency.png");

        await Infrastructure.Browser.GotoInteractiveAsync(page, $"{baseUrl}/resets");
        await AssertChartAsync(page.Locator("[data-test=reset-durations-chart]"), "s");
        await Infrastructure.Browser.SaveScreenshotAsync(page, "reset-durations.png");

        await Infrastructure.Browser.GotoInteractiveAsync(page, $"{baseUrl}/backups");
        await Assertions.Expect(page.Locator("[data-test=sets-empty]")).ToBeVisibleAsync();
        await page.ClickAsync("[data-test=backup-now]");
        await page.GetByLabel(_volume).CheckAsync();
        await page.ClickAsync("[data-test=backup-start]");
        await Assertions.Expect(page.Locator("[data-test=set-status]").First).ToContainTextAsync("completed", new() { Timeout = 60_000 });
        await AssertChartAsync(page.Locator("[data-test=sets-size-chart]"), "B", "KiB", "MiB");
        await AssertChartAsync(page.Locator("[data-test=sets-duration-chart]"), "s");
        await Infrastructure.Browser.SaveScreenshotAsync(page, "backup-charts.png");
        Assert.True(failures.Count == 0, $"Requests of the portal's pages failed:\n{string.Join('\n', failures)}");
    }

    /// <summary>A drawn series, and value axis ticks that all end in one of the units.</summary>
    private static async Task AssertChartAsync(ILocator chart, params string[] units)
    {
        // A single point is a round-capped line of no length, which Playwright counts as hidden: its path must be there.
        await Assertions.Expect(chart.Locator("path.mud-chart-line").First).ToBeAttachedAsync();
        var ticks = await chart.Locator("g.mud-charts-yaxis text").AllTextContentsAsync();
        Assert.NotEmpty(ticks);
        Assert.All(ticks, tick => Assert.Contains(units, unit => tick.EndsWith(" " + unit, StringComparison.Ordinal)));
    }
}
