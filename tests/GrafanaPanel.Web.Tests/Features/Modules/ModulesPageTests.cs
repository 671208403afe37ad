using System.Collections.Immutable;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.Extensions.DependencyInjection;
using static GrafanaPanel.Web.Tests.Features.Modules.ModuleFixtures;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class ModulesPageTests : ModuleTestContext
{
    private readonly FakePreClassCheck _preClass = new();

    public ModulesPageTests()
        : base(new FakeModuleCatalog(ModuleFixtures.Catalog(
            Module("module-1", services: ["grafana", "prometheus"], dashboards: ["stack-health"], dataSources: ["prometheus"]),
            Module("module-2", services: ["grafana", "loki"], dashboards: ["logs-loki"], dataSources: ["loki"]))))
    {
        Services.AddSingleton<IPreClassCheck>(_preClass);
        Grafana.Dashboards.UnionWith(["stack-health", "logs-loki"]);
        Grafana.DataSources.UnionWith(["prometheus", "loki"]);
        Snapshot.ReplaceContainers([Container("grafana", health: "healthy"), Container("prometheus", health: "healthy"), Container("loki", health: "healthy")]);
    }

    private static string StatusOf(IRenderedComponent<ModulesPage> page, string module) =>
        page.Find($"[data-test=module-card][data-module={module}]").GetAttribute("data-status")!;

    [Fact]
    public void Every_module_is_ready_when_its_services_are_healthy_and_grafana_has_its_pieces()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<ModulesPage>();

        page.WaitForAssertion(() => Assert.Equal("ready", StatusOf(page, "module-1")));
        Assert.Equal("ready", StatusOf(page, "module-2"));
        Assert.Empty(page.FindAll("[data-test=problem]"));
        Assert.Equal(["Ready", "Ready"], page.FindAll("[data-test=readiness-chip]").Select(c => c.TextContent.Trim()));
        Assert.Equal(1, Catalog.Refreshes);
    }

    [Fact]
    public void A_card_names_exactly_what_is_missing_and_the_other_stays_ready()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        Grafana.Dashboards.Remove("logs-loki");
        Snapshot.UpsertContainer(Container("loki", ContainerState.Exited));

        var page = Render<ModulesPage>();

        // The stopped service shows at once; the missing dashboard once Grafana has answered.
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-module=module-2] [data-test=problem]").Count));
        Assert.Equal("notready", StatusOf(page, "module-2"));
        var problems = page.FindAll("[data-module=module-2] [data-test=problem]");
        Assert.Equal(["service:loki", "dashboard:logs-loki"], problems.Select(p => $"{p.GetAttribute("data-kind")}:{p.GetAttribute("data-subject")}"));
        Assert.Equal("Service loki is down (exited).", problems[0].TextContent);
        Assert.Equal("Grafana has no dashboard 'logs-loki'.", problems[1].TextContent);
        Assert.Equal("ready", StatusOf(page, "module-1"));
    }

    [Fact]
    public void Unreachable_grafana_is_shown_with_its_reason_on_every_card()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        Grafana.Failure = new GrafanaApiException(GrafanaFailure.Unreachable, "Grafana at http://grafana:3000 is unreachable (the health check): Connection refused");

        var page = Render<ModulesPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-test=problem][data-kind=grafana]").Count));
        Assert.All(page.FindAll("[data-test=problem]"), p => Assert.Contains("Connection refused", p.TextContent));
    }

    [Fact]
    public void A_stack_change_re_judges_the_cards_without_asking_grafana_again()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var page = Render<ModulesPage>();
        page.WaitForAssertion(() => Assert.Equal("ready", StatusOf(page, "module-1")));
        var calls = Grafana.Calls.Count;

        Snapshot.UpsertContainer(Container("prometheus", ContainerState.Exited));

        page.WaitForAssertion(() => Assert.Equal("notready", StatusOf(page, "module-1")));
        Assert.Equal(calls, Grafana.Calls.Count);
    }

    [Fact]
    public void Links_open_grafana_in_a_new_tab_at_the_public_url()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<ModulesPage>();

        var link = page.Find("[data-module=module-1] [data-test=module-link][data-kind=dashboard]");
        Assert.Equal("http://lab.example:3000/d/stack-health", link.GetAttribute("href"));
        Assert.Equal("_blank", link.GetAttribute("target"));
        Assert.Equal("noopener noreferrer", link.GetAttribute("rel"));
        Assert.StartsWith("http://lab.example:3000/explore?schemaVersion=1&panes=",
            page.Find("[data-module=module-1] [data-test=module-link][data-kind=explore]").GetAttribute("href"));
        Assert.Equal("modules/module-1", page.Find("[data-module=module-1] [data-test=module-title]").GetAttribute("href"));
    }

    [Fact]
    public void A_catalog_error_is_shown_with_file_and_line_above_the_last_good_modules_and_a_fix_clears_it()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        var page = Render<ModulesPage>();

        Catalog.Set(Catalog.Current with { Error = new CatalogError("/etc/grafana-panel/modules.yaml", 12, 5, "unknown key 'dashbaord'") });

        page.WaitForAssertion(() => Assert.Contains("/etc/grafana-panel/modules.yaml, line 12", page.Find("[data-test=catalog-error]").TextContent));
        Assert.Contains("unknown key 'dashbaord'", page.Find("[data-test=catalog-error]").TextContent);
        Assert.Equal(2, page.FindAll("[data-test=module-card]").Count);

        Catalog.Set(Catalog.Current with { Error = null });
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=catalog-error]")));
    }

    [Fact]
    public void Only_instructors_and_admins_see_the_pre_class_check_and_its_result_is_a_checklist_with_a_verdict()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        Assert.Empty(Render<ModulesPage>().FindAll("[data-test=run-pre-class]"));
    }

    [Fact]
    public void An_instructor_runs_the_pre_class_check_and_sees_the_verdict_and_each_item()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
        var page = Render<ModulesPage>();
        page.WaitForAssertion(() => Assert.Contains("answered", page.Find("[data-test=grafana-status]").TextContent));

        page.Find("[data-test=run-pre-class]").Click();

        page.WaitForAssertion(() => Assert.Equal("Ready with warnings", page.Find("[data-test=verdict]").TextContent.Trim()));
        Assert.Equal(["pass", "warning"], page.FindAll("[data-test=check-item]").Select(i => i.GetAttribute("data-status")));
        Assert.Contains("No successful backup yet", page.FindAll("[data-test=check-detail]")[1].TextContent);
    }

    [Fact]
    public void A_refused_pre_class_check_shows_the_reason()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
        _preClass.Refusal = new PanelAccessDeniedException("This action needs the Instructor role; your role is Viewer.");
        var page = Render<ModulesPage>();
        page.WaitForAssertion(() => Assert.Contains("answered", page.Find("[data-test=grafana-status]").TextContent));

        page.Find("[data-test=run-pre-class]").Click();

        page.WaitForAssertion(() => Assert.Contains("needs the Instructor role", page.Find("[data-test=pre-class-error]").TextContent));
    }

    private sealed class FakePreClassCheck : IPreClassCheck
    {
        public PanelAccessDeniedException? Refusal { get; set; }

        public Task<PreClassReport> RunAsync(CancellationToken ct) => Refusal is not null
            ? Task.FromException<PreClassReport>(Refusal)
            : Task.FromResult(new PreClassReport(DateTimeOffset.UtcNow,
            [
                new CheckItem("Modules", "Grafana fundamentals", CheckStatus.Pass, "Ready."),
                new CheckItem("Backups", "Last successful backup", CheckStatus.Warning, "No successful backup yet: take one on the Backups page before class."),
            ]));
    }
}
