using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Stack;

public sealed class StackSnapshotTests
{
    private readonly StackSnapshot _snapshot = new(Options.Create(new StackOptions()), TimeProvider.System);

    [Theory]
    [InlineData(ContainerState.Running, "healthy", ServiceHealth.Healthy)]
    [InlineData(ContainerState.Running, "unhealthy", ServiceHealth.Unhealthy)]
    [InlineData(ContainerState.Running, "starting", ServiceHealth.Starting)]
    [InlineData(ContainerState.Running, null, ServiceHealth.Running)]
    [InlineData(ContainerState.Exited, null, ServiceHealth.Down)]
    [InlineData(ContainerState.Exited, "unhealthy", ServiceHealth.Down)]
    [InlineData(ContainerState.Restarting, null, ServiceHealth.Unhealthy)]
    [InlineData(ContainerState.Paused, "healthy", ServiceHealth.Paused)]
    public void Each_container_state_and_health_gives_one_verdict(ContainerState state, string? health, ServiceHealth expected)
    {
        _snapshot.ReplaceContainers([Container("grafana", state, health)]);

        Assert.Equal(expected, _snapshot.Current.Find("grafana")!.Health);
    }

    [Fact]
    public void A_failing_probe_makes_a_running_service_unhealthy_and_a_passing_one_healthy()
    {
        _snapshot.ReplaceContainers([Container("redis"), Container("loki")]);

        _snapshot.SetProbe("redis", new ProbeResult(false, 3000, "No answer within 3 s.", DateTimeOffset.UtcNow));
        _snapshot.SetProbe("loki", new ProbeResult(true, 4, "GET /ready answered 200", DateTimeOffset.UtcNow));

        Assert.Equal(ServiceHealth.Unhealthy, _snapshot.Current.Find("redis")!.Health);
        Assert.Equal(ServiceHealth.Healthy, _snapshot.Current.Find("loki")!.Health);
        Assert.Equal(1, _snapshot.Current.HealthyCount);
    }

    [Fact]
    public void Services_are_grouped_in_layer_order_and_counted()
    {
        _snapshot.ReplaceContainers([Container("alertmanager"), Container("alloy"), Container("grafana", health: "healthy"), Container("prometheus")]);

        var view = _snapshot.Current;

        Assert.Equal(["grafana", "prometheus", "alloy", "alertmanager"], view.Services.Select(s => s.Name));
        Assert.Equal(["presentation", "data", "collection", "support"], view.Services.Select(s => s.Layer));
        Assert.Equal(4, view.HealthyCount);
    }

    [Fact]
    public void An_event_updates_one_service_and_notifies_subscribers()
    {
        _snapshot.ReplaceContainers([Container("grafana", health: "healthy")]);
        StackView? seen = null;
        _snapshot.Changed += view => seen = view;

        _snapshot.UpsertContainer(Container("grafana", ContainerState.Exited));

        Assert.NotNull(seen);
        Assert.Equal(ServiceHealth.Down, seen.Find("grafana")!.Health);
    }

    [Fact]
    public void Volume_sizes_are_unknown_until_measured_then_summed()
    {
        _snapshot.ReplaceContainers([Container("grafana", volume: "grafana_data"), Container("loki", volume: "loki_data")]);
        Assert.Null(_snapshot.Current.DiskUsedBytes);
        Assert.All(_snapshot.Current.Volumes, v => Assert.Null(v.SizeBytes));

        _snapshot.SetVolumeUsage(
            [new VolumeUsage("grafana_data", 3_000, 1, new Dictionary<string, string>()), new VolumeUsage("loki_data", null, 1, new Dictionary<string, string>())],
            DateTimeOffset.UtcNow);

        Assert.Equal(3_000, _snapshot.Current.DiskUsedBytes);
        Assert.Equal(3_000, _snapshot.Current.Find("grafana")!.Volumes.Single().SizeBytes);
        Assert.Null(_snapshot.Current.Find("loki")!.Volumes.Single().SizeBytes);
    }

    [Fact]
    public void A_lost_daemon_keeps_the_last_state_and_marks_it_stale()
    {
        _snapshot.ReplaceContainers([Container("grafana", health: "healthy")]);

        _snapshot.MarkStale("The Docker engine at unix:///var/run/docker.sock is unreachable: refused");

        Assert.True(_snapshot.Current.IsStale);
        Assert.Equal(ServiceHealth.Healthy, _snapshot.Current.Find("grafana")!.Health);
        _snapshot.ReplaceContainers([Container("grafana", health: "healthy")]);
        Assert.False(_snapshot.Current.IsStale);
    }

    [Fact]
    public void Watching_counts_open_pages_until_disposed_once()
    {
        var first = _snapshot.Watch();
        var second = _snapshot.Watch();
        Assert.Equal(2, _snapshot.Watchers);

        first.Dispose();
        first.Dispose();

        Assert.Equal(1, _snapshot.Watchers);
        second.Dispose();
        Assert.Equal(0, _snapshot.Watchers);
    }

    [Theory]
    [InlineData("postgres:service_healthy:false,redis:service_started:false", new[] { "postgres", "redis" })]
    [InlineData("loki:service_healthy", new[] { "loki" })]
    [InlineData("", new string[0])]
    [InlineData(null, new string[0])]
    public void Compose_depends_on_labels_are_read(string? label, string[] expected)
    {
        Assert.Equal(expected, StackSnapshot.ParseDependsOn(label));
    }

    [Fact]
    public void Dependencies_come_before_their_dependents_and_stop_in_reverse()
    {
        _snapshot.ReplaceContainers([
            Container("grafana", dependsOn: "postgres:service_healthy:false,redis:service_healthy:false,prometheus:service_started:false"),
            Container("prometheus", dependsOn: "alertmanager:service_started:false"),
            Container("postgres"),
            Container("redis"),
            Container("alertmanager"),
        ]);

        var order = StackControl.DependencyOrder(_snapshot.Current.Services).Select(s => s.Name).ToList();

        Assert.True(order.IndexOf("postgres") < order.IndexOf("grafana"));
        Assert.True(order.IndexOf("redis") < order.IndexOf("grafana"));
        Assert.True(order.IndexOf("prometheus") < order.IndexOf("grafana"));
        Assert.True(order.IndexOf("alertmanager") < order.IndexOf("prometheus"));
        Assert.Equal(5, order.Count);
    }

    [Fact]
    public void A_dependency_cycle_does_not_loop()
    {
        _snapshot.ReplaceContainers([Container("a", dependsOn: "b:service_started"), Container("b", dependsOn: "a:service_started")]);

        Assert.Equal(2, StackControl.DependencyOrder(_snapshot.Current.Services).Count);
    }
}
