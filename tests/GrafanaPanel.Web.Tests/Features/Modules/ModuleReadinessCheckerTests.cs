using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;
using static GrafanaPanel.Web.Tests.Features.Modules.ModuleFixtures;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class ModuleReadinessCheckerTests
{
    private readonly FakeGrafanaApi _grafana = new();
    private readonly StackSnapshot _snapshot = new(Options.Create(new StackOptions()), TimeProvider.System);
    private readonly TrainingModule _module = Module(services: ["grafana", "prometheus"], dashboards: ["stack-health"], dataSources: ["prometheus"]);

    public ModuleReadinessCheckerTests()
    {
        _grafana.Dashboards.Add("stack-health");
        _grafana.DataSources.Add("prometheus");
        _snapshot.ReplaceContainers([Container("grafana", health: "healthy"), Container("prometheus", health: "healthy")]);
    }

    private async Task<ModuleReadiness> CheckAsync()
    {
        var inventory = await new ModuleReadinessChecker(_grafana, TimeProvider.System).ProbeGrafanaAsync([_module], CancellationToken.None);
        return ModuleReadinessChecker.Evaluate(_module, _snapshot.Current, inventory);
    }

    [Fact]
    public async Task Ready_when_every_service_is_healthy_and_grafana_has_every_piece()
    {
        var readiness = await CheckAsync();

        Assert.Equal(ReadinessStatus.Ready, readiness.Status);
        Assert.Empty(readiness.Problems);
    }

    [Fact]
    public async Task A_missing_dashboard_is_named()
    {
        _grafana.Dashboards.Clear();

        var problem = Assert.Single((await CheckAsync()).Problems);

        Assert.Equal(ProblemKind.Dashboard, problem.Kind);
        Assert.Equal("stack-health", problem.Subject);
        Assert.Equal("Grafana has no dashboard 'stack-health'.", problem.Message);
    }

    [Fact]
    public async Task A_missing_data_source_is_named()
    {
        _grafana.DataSources.Clear();

        var problem = Assert.Single((await CheckAsync()).Problems);

        Assert.Equal(ProblemKind.DataSource, problem.Kind);
        Assert.Contains("data source 'prometheus'", problem.Message);
    }

    [Theory]
    [InlineData(ContainerState.Exited, null, "Service prometheus is down (exited).")]
    [InlineData(ContainerState.Paused, null, "Service prometheus is paused.")]
    [InlineData(ContainerState.Running, "starting", "Service prometheus is still starting.")]
    [InlineData(ContainerState.Running, "unhealthy", "Service prometheus is unhealthy: curl: connection refused.")]
    public async Task A_service_that_is_not_healthy_is_named_with_its_state(ContainerState state, string? health, string message)
    {
        _snapshot.UpsertContainer(Container("prometheus", state, health: health));

        var problem = Assert.Single((await CheckAsync()).Problems);

        Assert.Equal(ProblemKind.Service, problem.Kind);
        Assert.Equal("prometheus", problem.Subject);
        Assert.Equal(message, problem.Message);
    }

    [Fact]
    public async Task A_service_without_a_container_is_named()
    {
        _snapshot.RemoveContainer("prometheus-id");

        var problem = Assert.Single((await CheckAsync()).Problems);

        Assert.Equal("Service prometheus is not running: the stack grafana-training has no container for it.", problem.Message);
    }

    [Fact]
    public async Task Unreachable_grafana_is_one_problem_with_the_reason_not_one_per_uid()
    {
        _grafana.Failure = new GrafanaApiException(GrafanaFailure.Unreachable, "Grafana at http://grafana:3000 is unreachable (the health check): Connection refused");

        var readiness = await CheckAsync();

        var problem = Assert.Single(readiness.Problems);
        Assert.Equal(ProblemKind.Grafana, problem.Kind);
        Assert.Contains("Connection refused", problem.Message);
        Assert.Equal(ReadinessStatus.NotReady, readiness.Status);
    }

    [Fact]
    public async Task Credentials_refused_for_every_piece_are_one_problem_naming_the_settings()
    {
        _grafana.PieceFailure = new GrafanaApiException(GrafanaFailure.Unauthorized,
            "Grafana refused the portal's credentials (HTTP 401). Check Grafana__User and Grafana__Password.");

        var problem = Assert.Single((await CheckAsync()).Problems);

        Assert.Equal(ProblemKind.Grafana, problem.Kind);
        Assert.StartsWith("Grafana answered none of the 2 checks. The first: Grafana refused", problem.Message);
    }

    [Fact]
    public async Task Grafana_whose_database_fails_is_not_asked_for_pieces()
    {
        _grafana.DatabaseOk = false;

        var problem = Assert.Single((await CheckAsync()).Problems);

        Assert.Contains("its database does not", problem.Message);
        Assert.Equal(["health"], _grafana.Calls);
    }

    [Fact]
    public void Before_grafana_answered_a_module_is_checking_unless_a_service_already_fails()
    {
        Assert.Equal(ReadinessStatus.Checking, ModuleReadinessChecker.Evaluate(_module, _snapshot.Current, null).Status);

        _snapshot.UpsertContainer(Container("grafana", ContainerState.Exited));

        Assert.Equal(ReadinessStatus.NotReady, ModuleReadinessChecker.Evaluate(_module, _snapshot.Current, null).Status);
    }

    [Fact]
    public async Task Each_piece_is_asked_once_even_when_several_modules_use_it()
    {
        var other = Module("module-2", dashboards: ["stack-health"]);

        await new ModuleReadinessChecker(_grafana, TimeProvider.System).ProbeGrafanaAsync([_module, other], CancellationToken.None);

        Assert.Single(_grafana.Calls, c => c == "dashboard stack-health");
    }

    [Fact]
    public void A_stale_snapshot_is_a_problem()
    {
        _snapshot.MarkStale("the Docker engine at unix:///var/run/docker.sock is unreachable");

        var problem = Assert.Single(ModuleReadinessChecker.Evaluate(_module, _snapshot.Current, null).Problems);

        Assert.Equal(ProblemKind.Stack, problem.Kind);
        Assert.Contains("unreachable", problem.Message);
    }
}
