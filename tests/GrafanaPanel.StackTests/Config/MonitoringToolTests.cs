using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

/// <summary>deploy/ checked by Prometheus's and Alertmanager's own tools (Debian packages prometheus, prometheus-alertmanager).</summary>
public sealed class MonitoringToolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    public static TheoryData<string> RuleFiles() =>
        [.. Directory.GetFiles(Repo.PathOf("deploy", "prometheus", "rules"), "*.yml").Order()];

    [Fact]
    public async Task Promtool_accepts_the_prometheus_configuration()
    {
        // promtool checks that the portal's token file exists: a copy of deploy/prometheus with the
        // file where the container has it (written at start by docker-compose.yml) moved to a temporary folder.
        var copy = Directory.CreateTempSubdirectory("stacktests-prometheus-").FullName;
        try
        {
            CopyDirectory(Repo.PathOf("deploy", "prometheus"), copy);
            var tokenFile = Path.Combine(copy, "panel-metrics-token");
            await File.WriteAllTextAsync(tokenFile, "token");
            var config = Path.Combine(copy, "prometheus.yml");
            var text = await File.ReadAllTextAsync(config);
            Assert.Contains(PanelTokenFile, text);
            await File.WriteAllTextAsync(config, text.Replace(PanelTokenFile, tokenFile, StringComparison.Ordinal));

            var result = await Tool.RunAsync("promtool", ["check", "config", config], Timeout);

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Contains("SUCCESS", result.StandardOutput + result.StandardError);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void Prometheus_scrapes_the_portal_with_the_bearer_token_file_compose_writes()
    {
        var job = Yaml.Load(Repo.PathOf("deploy", "prometheus", "prometheus.yml")).Items("scrape_configs")
            .Single(j => j.Text("job_name") == "grafana-panel");

        Assert.Equal("Bearer", job.Text("authorization", "type"));
        Assert.Equal(PanelTokenFile, job.Text("authorization", "credentials_file"));
    }

    private const string PanelTokenFile = "/run/prometheus/panel-metrics-token";

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Theory]
    [MemberData(nameof(RuleFiles))]
    public async Task Promtool_accepts_each_rule_file(string file)
    {
        var result = await Tool.RunAsync("promtool", ["check", "rules", file], Timeout);

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task The_alert_rules_behave_as_their_unit_tests_say()
    {
        var result = await Tool.RunAsync("promtool", ["test", "rules", Repo.PathOf("tests", "stack", "prometheus", "rules.test.yml")], Timeout);

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task Amtool_accepts_the_alertmanager_configuration()
    {
        var result = await Tool.RunAsync("amtool", ["check-config", Repo.PathOf("deploy", "alertmanager", "alertmanager.yml")], Timeout);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.StandardOutput);
    }
}
