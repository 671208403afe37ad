using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Stack;

public sealed class OverviewPageTests : PanelTestContext
{
    private readonly RecordingControl _control = new();
    private readonly StackSnapshot _snapshot = new(Options.Create(new StackOptions()), TimeProvider.System);
    private readonly StackLock _lock = new();
    private readonly KeptVolumeSizes _sizes = new();

    public OverviewPageTests()
    {
        Services.AddSingleton(Options.Create(new StackOptions { PublicHost = "lab.example" }));
        Services.AddSingleton(_snapshot);
        Services.AddSingleton(_lock);
        Services.AddSingleton<IStackControl>(_control);
        Services.AddSingleton<IVolumeSizeHistory>(_sizes);
        Services.AddHttpClient();
        Services.AddLogging();
        Services.AddSingleton<ServiceProber>();
        Services.AddSingleton<StackMonitor>();
        _snapshot.ReplaceContainers([
            Container("grafana", health: "healthy", publicPort: 3000, volume: "grafana_data"),
            Container("prometheus", health: "unhealthy", publicPort: 9090, hostIp: "127.0.0.1"),
            Container("panel", portal: true),
        ]);
    }

    [Fact]
    public void Shows_one_card_per_service_by_layer_with_a_summary_line()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<OverviewPage>();

        Assert.Equal(["grafana", "prometheus", "panel"], page.FindAll("[data-test=service-card]").Select(c => c.GetAttribute("data-service")));
        Assert.Equal(["presentation", "data", "support"], page.FindAll("[data-test=layer]").Select(l => l.TextContent.Trim()));
        Assert.Equal("2 of 3", page.Find("[data-test=healthy-count]").TextContent);
        Assert.Equal("http://lab.example:3000/", page.Find("[data-service=grafana] [data-test=port-link]").GetAttribute("href"));
        Assert.Equal("unhealthy", page.Find("[data-service=prometheus]").GetAttribute("data-health"));
        // Published on 127.0.0.1: a link only because this browser reached the portal on the host (bunit's http://localhost/).
        Assert.Equal("http://localhost:9090/", page.Find("[data-service=prometheus] [data-test=port-link]").GetAttribute("href"));
    }

    [Fact]
    public void A_running_reset_is_announced_with_a_link_to_follow_it()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var page = Render<OverviewPage>();
        Assert.Empty(page.FindAll("[data-test=stack-busy]"));

        using (_lock.Acquire("the reset to baseline \"factory\" asked for by ann@panel.test"))
        {
            _snapshot.ReplaceContainers([Container("grafana", state: GrafanaPanel.Web.Docker.ContainerState.Exited)]);
            page.WaitForAssertion(() => Assert.StartsWith("The reset to baseline \"factory\"", page.Find("[data-test=stack-busy]").TextContent.Trim()));
            Assert.Equal("resets", page.Find("[data-test=stack-busy] a").GetAttribute("href"));
        }
    }

    [Fact]
    public void A_viewer_sees_no_action_and_an_instructor_does()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var viewerPage = Render<OverviewPage>();
        Assert.Empty(viewerPage.FindAll("[data-test=stop]"));
        Assert.Empty(viewerPage.FindAll("[data-test=stack-restart]"));
        Assert.Empty(viewerPage.FindAll("[data-test=reset-lab]"));
    }

    [Fact]
    public void An_instructor_sees_actions_except_on_the_portal_itself()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);

        var page = Render<OverviewPage>();

        Assert.NotEmpty(page.FindAll("[data-service=grafana] [data-test=stop]"));
        Assert.NotEmpty(page.FindAll("[data-test=stack-restart]"));
        Assert.NotEmpty(page.FindAll("[data-test=reset-lab]"));
        Assert.Empty(page.FindAll("[data-service=panel] [data-test=stop]"));
        Assert.NotEmpty(page.FindAll("[data-service=panel] [data-test=portal-note]"));
    }

    [Fact]
    public void Starting_a_service_asks_the_server_side_control()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
        _snapshot.UpsertContainer(Container("grafana", ContainerState.Exited));
        var page = Render<OverviewPage>();

        page.Find("[data-service=grafana] [data-test=start]").Click();

        page.WaitForAssertion(() => Assert.Equal(["Start grafana"], _control.Calls));
    }

    [Fact]
    public void A_refused_action_shows_the_reason()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
        _control.Refusal = new StackActionRefusedException("There is no service named 'x'.");
        _snapshot.UpsertContainer(Container("grafana", ContainerState.Exited));
        var page = Render<OverviewPage>();

        page.Find("[data-service=grafana] [data-test=start]").Click();

        page.WaitForAssertion(() => Assert.Contains("no service named", page.Find("[data-test=action-error]").TextContent));
    }

    [Fact]
    public void A_change_in_the_snapshot_reaches_the_open_page_without_a_reload()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var page = Render<OverviewPage>();
        Assert.Equal("healthy", page.Find("[data-service=grafana]").GetAttribute("data-health"));

        _snapshot.UpsertContainer(Container("grafana", ContainerState.Exited));

        page.WaitForAssertion(() => Assert.Equal("down", page.Find("[data-service=grafana]").GetAttribute("data-health")));
        Assert.Equal("1 of 3", page.Find("[data-test=healthy-count]").TextContent);
    }

    [Fact]
    public void A_stale_snapshot_is_shown_as_last_known_state_not_an_error_page()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        _snapshot.MarkStale("The Docker engine at unix:///var/run/docker.sock is unreachable: refused");

        var page = Render<OverviewPage>();

        Assert.Contains("unreachable", page.Find("[data-test=stale]").TextContent);
        Assert.Equal(3, page.FindAll("[data-test=service-card]").Count);
    }

    [Fact]
    public void The_filter_narrows_the_cards()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var page = Render<OverviewPage>();

        page.Find("input[data-test=filter], [data-test=filter] input").Input("prom");

        page.WaitForAssertion(() => Assert.Equal(["prometheus"], page.FindAll("[data-test=service-card]").Select(c => c.GetAttribute("data-service"))));
    }

    [Fact]
    public void The_page_watches_resource_use_only_while_open()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var page = Render<OverviewPage>();
        Assert.Equal(1, _snapshot.Watchers);

        page.Instance.Dispose();

        Assert.Equal(0, _snapshot.Watchers);
    }

    [Fact]
    public void The_lab_volumes_total_size_is_charted_from_the_kept_measurements_and_a_new_measurement_joins_it()
    {
        MeasureChartLabels();
        var start = DateTimeOffset.UtcNow.AddHours(-3);
        _sizes.Totals.AddRange([new VolumeSizeTotal(start, 2_000_000, 1), new VolumeSizeTotal(start.AddHours(1), 2_500_000, 1)]);
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var page = Render<OverviewPage>();
        Assert.Equal(2, Points(page));
        Assert.All(page.FindAll("[data-test=volume-sizes] g.mud-charts-yaxis text").Select(t => t.TextContent), t => Assert.EndsWith(" MiB", t));
        ReportChartSizes(page);

        _snapshot.SetVolumeUsage([new VolumeUsage("grafana_data", 3_000_000, 1, new Dictionary<string, string>())], DateTimeOffset.UtcNow);

        page.WaitForAssertion(() => Assert.Equal(3, Points(page)));
    }

    [Fact]
    public void Without_a_kept_measurement_the_chart_is_a_sentence()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<OverviewPage>();

        Assert.Contains("No measurement of the lab volumes kept yet", page.Find("[data-test=volume-sizes-empty]").TextContent);
        Assert.Empty(page.FindAll("[data-test=volume-sizes] svg"));
    }

    [Fact]
    public void A_history_that_cannot_be_read_costs_only_the_chart()
    {
        _sizes.Failure = new InvalidOperationException("the database is starting");
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<OverviewPage>();

        Assert.Contains("the database is starting", page.Find("[data-test=volume-sizes-error]").TextContent);
        Assert.Equal(3, page.FindAll("[data-test=service-card]").Count);
    }

    private static int Points(IRenderedComponent<OverviewPage> page) =>
        page.FindAll("[data-test=volume-sizes-chart] circle.mud-chart-point:not(.mud-chart-hover-point)").Count;

    /// <summary>Totals the test keeps; a failure set by the test is what reading them throws.</summary>
    private sealed class KeptVolumeSizes : IVolumeSizeHistory
    {
        public List<VolumeSizeTotal> Totals { get; } = [];

        public Exception? Failure { get; set; }

        public Task AppendAsync(DateTimeOffset measuredAt, IReadOnlyCollection<VolumeView> volumes, CancellationToken ct) => Task.CompletedTask;

        public Task<IReadOnlyList<VolumeSizeTotal>> TotalsAsync(DateTimeOffset since, int maxPoints, CancellationToken ct) =>
            Failure is null ? Task.FromResult<IReadOnlyList<VolumeSizeTotal>>([.. Totals.Where(t => t.At >= since)]) : Task.FromException<IReadOnlyList<VolumeSizeTotal>>(Failure);

        public Task<int> PruneAsync(DateTimeOffset olderThan, CancellationToken ct) => Task.FromResult(0);
    }

    private sealed class RecordingControl : IStackControl
    {
        public List<string> Calls { get; } = [];

        public Exception? Refusal { get; set; }

        public Task<string> RunAsync(string serviceName, ServiceAction action, CancellationToken ct = default)
        {
            Calls.Add($"{action} {serviceName}");
            return Refusal is null ? Task.FromResult($"{serviceName}: done.") : Task.FromException<string>(Refusal);
        }

        public Task<string> RunStackAsync(ServiceAction action, IProgress<string>? progress = null, CancellationToken ct = default)
        {
            Calls.Add($"{action} stack");
            return Task.FromResult("done");
        }
    }
}
