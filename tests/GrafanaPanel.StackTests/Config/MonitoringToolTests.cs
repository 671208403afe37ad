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
        var result = await Tool.RunAsync("promtool", ["check", "config", Repo.PathOf("deploy", "prometheus", "prometheus.yml")], Timeout);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.StandardOutput + result.StandardError);
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
