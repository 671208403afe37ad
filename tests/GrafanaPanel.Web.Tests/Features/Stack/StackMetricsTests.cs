using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;
using Prometheus;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Stack;

public sealed class StackMetricsTests
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly StackSnapshot _snapshot = new(Options.Create(new StackOptions()), TimeProvider.System);

    [Fact]
    public async Task Each_service_is_exported_as_healthy_or_not_and_follows_changes()
    {
        using var metrics = new StackMetrics(_snapshot, Metrics.WithCustomRegistry(_registry));
        _snapshot.ReplaceContainers([Container("grafana", health: "healthy"), Container("loki", ContainerState.Exited)]);

        var text = await ExportAsync();
        Assert.Contains("grafanapanel_stack_service_healthy{service=\"grafana\"} 1", text);
        Assert.Contains("grafanapanel_stack_service_healthy{service=\"loki\"} 0", text);
        Assert.Contains("grafanapanel_stack_services 2", text);

        _snapshot.ReplaceContainers([Container("grafana", health: "unhealthy")]);

        text = await ExportAsync();
        Assert.Contains("grafanapanel_stack_service_healthy{service=\"grafana\"} 0", text);
        Assert.DoesNotContain("service=\"loki\"", text);
    }

    private async Task<string> ExportAsync()
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
