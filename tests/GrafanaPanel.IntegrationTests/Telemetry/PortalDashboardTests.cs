using System.Text.Json;
using System.Text.RegularExpressions;

namespace GrafanaPanel.IntegrationTests.Telemetry;

/// <summary>
/// The provisioned "GrafanaPanel" dashboard (deploy/grafana/dashboards/module-5/grafana-panel.json) is valid JSON and
/// every metric its Prometheus queries name is on the /metrics of a real portal that ran a backup, a schedule, a
/// Grafana call and a probe.
/// </summary>
[Collection(TelemetryFixture.Collection)]
public sealed partial class PortalDashboardTests(TelemetryFixture fixture)
{
    private static JsonElement Dashboard()
    {
        var path = Path.Combine(RepositoryRoot(), "deploy", "grafana", "dashboards", "module-5", "grafana-panel.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    private static IEnumerable<JsonElement> Targets(JsonElement dashboard, string dataSourceType) =>
        dashboard.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Where(t => t.GetProperty("datasource").GetProperty("type").GetString() == dataSourceType);

    [Fact]
    public void The_dashboard_is_the_portals_own_with_metrics_traces_and_logs()
    {
        var dashboard = Dashboard();

        Assert.Equal("grafana-panel", dashboard.GetProperty("uid").GetString());
        Assert.Equal("GrafanaPanel", dashboard.GetProperty("title").GetString());
        Assert.NotEmpty(Targets(dashboard, "prometheus"));
        Assert.Contains(Targets(dashboard, "tempo"), t => t.GetProperty("query").GetString()!.Contains("\"grafana-panel\"", StringComparison.Ordinal));
        Assert.Contains(Targets(dashboard, "loki"), t => t.GetProperty("expr").GetString()!.Contains("service=\"panel\"", StringComparison.Ordinal));
        var ids = dashboard.GetProperty("panels").EnumerateArray().Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Every_metric_the_dashboard_queries_is_on_the_portals_metrics()
    {
        var exported = ExportedSeries().Matches(fixture.Metrics).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var queried = Targets(Dashboard(), "prometheus")
            .SelectMany(t => MetricName().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(queried);
        Assert.All(queried, metric => Assert.True(exported.Contains(metric), $"{metric} is not on the portal's /metrics"));
    }

    [Fact]
    public void The_portals_meter_is_exported_with_its_labels()
    {
        // At least once: the meter and the default registry are the process's, and other portals of this test run
        // (in-process, in other test classes) may have recorded into them too.
        Assert.Matches(@"grafanapanel_job_duration_seconds_bucket\{job=""backup"",outcome=""success"",le=", fixture.Metrics);
        Assert.Matches(@"grafanapanel_job_bytes_count\{job=""backup""\} [1-9]", fixture.Metrics);
        Assert.Matches(@"grafanapanel_docker_call_duration_seconds_count\{operation=""GetArchiveAsync"",outcome=""success""\}", fixture.Metrics);
        Assert.Matches(@"grafanapanel_grafana_call_duration_seconds_count\{operation=""GET /api/health"",outcome=""failure""\} [1-9]", fixture.Metrics);
        Assert.Matches(@"grafanapanel_probe_duration_seconds_count\{outcome=""failure"",service=""probe-test""\} [1-9]", fixture.Metrics);
        // The backup has run: nothing waits in the portal's queue.
        Assert.Matches(@"(?m)^grafanapanel_jobs_queued\{queue=""default""\} 0$", fixture.Metrics);
        Assert.Matches(@"(?m)^grafanapanel_jobs_in_state\{state=""scheduled""\} \d+$", fixture.Metrics);
    }

    // A sample line's metric name; the dashboard's metric names all start with grafanapanel_.
    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", RegexOptions.Multiline)]
    private static partial Regex ExportedSeries();

    [GeneratedRegex(@"\bgrafanapanel_[a-z0-9_]+")]
    private static partial Regex MetricName();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GrafanaPanel.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (GrafanaPanel.sln) was not found above " + AppContext.BaseDirectory);
    }
}
