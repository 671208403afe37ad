using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.OfflineStack;

/// <summary>The portal built from the repository's Dockerfile (local base images) joins the offline stack and serves its page.</summary>
[Collection(OfflineStackCollection.Name)]
[Trait("Category", "OfflineStack")]
public sealed class PortalOnStackTests(OfflineStackFixture stack)
{
    [Fact]
    public async Task The_portal_starts_in_the_stack_is_ready_serves_a_working_page_and_is_scraped_by_Prometheus()
    {
        await stack.StartPortalAsync();

        // The image lays out every asset its page needs: styled, the circuit live, a tab and a form answering.
        await using (var browser = await Browser.LaunchAsync())
        {
            var page = await (await browser.Instance.NewContextAsync()).NewPageAsync();
            var baseUrl = stack.Url("PANEL_PORT", "/").ToString().TrimEnd('/');
            await Browser.AssertPortalWorksAsync(page, baseUrl, stack.TestEnvironment["PANEL_ADMIN_EMAIL"], stack.TestEnvironment["PANEL_ADMIN_PASSWORD"], screenshot: "image.png");
        }

        await Eventually.HoldsAsync("the grafana-panel target up in Prometheus", async () =>
        {
            var targets = (await stack.GetJsonAsync(stack.Url("PROMETHEUS_PORT", "/api/v1/targets?state=active")))
                .GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Where(t => t.GetProperty("labels").GetProperty("job").GetString() == "grafana-panel")
                .Select(t => $"{t.GetProperty("health").GetString()} {t.GetProperty("lastError").GetString()}").ToList();
            return (targets.Count == 1 && targets[0].StartsWith("up", StringComparison.Ordinal), string.Join("; ", targets));
        }, TimeSpan.FromMinutes(2));
    }
}
