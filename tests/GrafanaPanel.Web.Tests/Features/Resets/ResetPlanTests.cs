using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Resets;

public sealed class ResetPlanTests
{
    private static StackView Stack()
    {
        var snapshot = new StackSnapshot(Options.Create(new StackOptions()), TimeProvider.System);
        snapshot.ReplaceContainers([
            Container("grafana", dependsOn: "postgres:service_healthy:false", volume: "grafana_data"),
            Container("postgres", volume: "postgres_data"),
            Container("prometheus", volume: "prometheus_data"),
            Container("panel-db", portal: true, volume: "panel_db"),
        ]);
        return snapshot.Current;
    }

    private static Baseline BaselineOf(params string[] volumes) => new()
    {
        Id = Guid.NewGuid(),
        Name = "module-3-start",
        Set = new BackupSet { CreatedAt = DateTimeOffset.UnixEpoch, Status = BackupSetStatus.Completed, Volumes = [.. volumes.Select(v => new BackupSetVolume { VolumeName = v })] },
    };

    [Fact]
    public void The_whole_stack_is_every_lab_service_in_dependency_order_never_the_portal()
    {
        var plan = ResetPlan.Build(Stack(), null, null);

        Assert.True(plan.WholeStack);
        Assert.True(plan.IsFactory);
        Assert.Equal(["postgres", "grafana", "prometheus"], plan.Services.Select(s => s.Name));
        Assert.Equal(["grafana_data", "postgres_data", "prometheus_data"], plan.Volumes.Select(v => v.Name));
        Assert.All(plan.Volumes, v => Assert.Equal(VolumeResetAction.Empty, v.Action));
    }

    [Fact]
    public void A_baseline_restores_the_volumes_it_holds_and_keeps_the_others()
    {
        var plan = ResetPlan.Build(Stack(), ["grafana", "prometheus"], BaselineOf("grafana_data", "panel_db"));

        Assert.False(plan.WholeStack);
        Assert.Equal("module-3-start", plan.BaselineName);
        Assert.Equal(DateTimeOffset.UnixEpoch, plan.BaselineTakenAt);
        Assert.Equal(
            [("grafana_data", VolumeResetAction.Restore), ("prometheus_data", VolumeResetAction.Keep)],
            plan.Volumes.Select(v => (v.Name, v.Action)));
        Assert.Equal(["grafana_data"], plan.ReplacedVolumes);
    }

    [Theory]
    [InlineData("../grafana", "no service named")]
    [InlineData("grafana\n", "no service named")]
    [InlineData("panel-db", "portal itself")]
    public void Unknown_services_and_the_portal_are_refused(string service, string expected)
    {
        var refused = Assert.Throws<ResetRefusedException>(() => ResetPlan.Build(Stack(), [service], null));
        Assert.Contains(expected, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void Dependency_levels_group_services_that_can_start_or_stop_together()
    {
        var snapshot = new StackSnapshot(Options.Create(new StackOptions()), TimeProvider.System);
        snapshot.ReplaceContainers([
            Container("grafana", dependsOn: "postgres:service_healthy:false,prometheus:service_healthy:false"),
            Container("postgres"),
            Container("prometheus", dependsOn: "alertmanager:service_healthy:false"),
            Container("alertmanager"),
            Container("redis"),
        ]);

        var levels = StackControl.DependencyLevels(snapshot.Current.Services);

        Assert.Equal(
            [["alertmanager", "postgres", "redis"], ["prometheus"], ["grafana"]],
            levels.Select(l => l.Select(s => s.Name).Order(StringComparer.Ordinal).ToArray()));
    }
}
