using GrafanaPanel.Web.Features.Modules;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class ModuleCatalogParserTests
{
    private const string File = "/etc/grafana-panel/modules.yaml";

    private const string OneModule = """
        modules:
          - id: module-1
            title: Grafana fundamentals
            summary: The UI.
            goals: [Read a dashboard]
            services: [grafana, prometheus]
            orgId: 2
            baseline: module-1-start
            links:
              - title: Stack health
                dashboard: stack-health
              - title: Explore
                explore: { datasource: loki, type: loki, query: '{service="grafana"}' }
              - title: Alerts
                page: alerting
                orgId: 3
        """;

    [Fact]
    public void Reads_a_module_with_every_kind_of_field()
    {
        var module = Assert.Single(ModuleCatalogParser.Parse(File, OneModule).Modules);

        Assert.Equal("module-1", module.Id);
        Assert.Equal("Grafana fundamentals", module.Title);
        Assert.Equal(["Read a dashboard"], module.Goals.ToArray());
        Assert.Equal(["grafana", "prometheus"], module.Services.ToArray());
        Assert.Equal(2, module.OrgId);
        Assert.Equal("module-1-start", module.Baseline);
        Assert.Equal(2, module.Line);
        Assert.Equal([ModuleLinkKind.Dashboard, ModuleLinkKind.Explore, ModuleLinkKind.Page], module.Links.Select(l => l.Kind));
        Assert.Equal(new ExploreQuery("loki", "loki", "{service=\"grafana\"}"), module.Links[1].Explore);
        Assert.Equal(2, module.Links[0].OrgIdIn(module));
        Assert.Equal(3, module.Links[2].OrgIdIn(module));
    }

    [Fact]
    public void The_default_catalog_has_the_five_modules_of_the_course()
    {
        var path = RepositoryFiles.PathOf("deploy", "portal", "modules.yaml");

        var catalog = ModuleCatalogParser.Parse(path, System.IO.File.ReadAllText(path));

        Assert.Equal(["module-1", "module-2", "module-3", "module-4", "module-5"], catalog.Modules.Select(m => m.Id));
        Assert.Equal(["Grafana fundamentals", "Data sources", "Best practices", "Organization", "Advanced"], catalog.Modules.Select(m => m.Title));
        Assert.All(catalog.Modules, m => Assert.False(string.IsNullOrWhiteSpace(m.Baseline)));
        Assert.True(catalog.Find("module-4")!.LearnerAccounts);
        Assert.Equal(1, catalog.Find("module-4")!.OrgId);
    }

    [Theory]
    [InlineData("modules:\n  - id: module-1\n    title: [unclosed\n", 4, "not valid YAML")]
    [InlineData("modules:\n  - id: module-1\n    title: A\n    dashbaord: x\n", 4, "unknown key 'dashbaord'")]
    [InlineData("modules:\n  - id: module-1\n    title: A\n  - id: module-1\n    title: B\n", 4, "module id 'module-1' is used twice (first on line 2)")]
    [InlineData("modules:\n  - id: Module One\n    title: A\n", 2, "the id must be lower-case letters")]
    [InlineData("modules:\n  - id: m\n", 2, "'title:' is required")]
    [InlineData("modules:\n  - id: m\n    title: A\n    links:\n      - title: L\n", 5, "needs exactly one of dashboard, folder, explore, page")]
    [InlineData("modules:\n  - id: m\n    title: A\n    links:\n      - title: L\n        dashboard: a\n        page: alerting\n", 5, "(it has dashboard and page)")]
    [InlineData("modules:\n  - id: m\n    title: A\n    links:\n      - title: L\n        page: alrting\n", 6, "unknown page 'alrting'")]
    [InlineData("modules:\n  - id: m\n    title: A\n    links:\n      - title: L\n        dashboard: 'a b'\n", 6, "'a b' is not a Grafana uid")]
    [InlineData("modules:\n  - id: m\n    title: A\n    links:\n      - title: L\n        explore: { datasource: x, type: graphite, query: q }\n", 6, "unknown data source type 'graphite'")]
    [InlineData("modules:\n  - id: m\n    title: A\n    links:\n      - title: L\n        explore: { datasource: x, type: loki }\n", 6, "'query:' is required")]
    [InlineData("modules:\n  - id: m\n    title: A\n    orgId: 0\n", 4, "orgId must be a Grafana organization id")]
    [InlineData("modules:\n  - id: m\n    title: A\n    services: grafana\n", 4, "'services:' must be a list")]
    [InlineData("modules:\n  - id: m\n    title: A\n    learnerAccounts: maybe\n", 4, "must be true or false")]
    [InlineData("modules:\n  - just text\n", 2, "must be a mapping")]
    [InlineData("moduls:\n  - id: m\n", 1, "unknown key 'moduls'")]
    [InlineData("modules: none\n", 1, "'modules:' must be a list")]
    [InlineData("modules:\n  - id: m\n    title: A\n    title: B\n", 4, "not valid YAML")]
    public void An_error_names_the_file_the_line_and_the_problem(string yaml, int line, string problem)
    {
        var error = Assert.Throws<ModuleCatalogException>(() => ModuleCatalogParser.Parse(File, yaml)).Error;

        Assert.Equal(File, error.Path);
        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Problem);
        Assert.StartsWith($"{File}, line {line}", error.ToString());
    }

    [Fact]
    public void A_file_that_is_not_a_mapping_says_what_it_must_be()
    {
        var error = Assert.Throws<ModuleCatalogException>(() => ModuleCatalogParser.Parse(File, "- a\n- b\n")).Error;

        Assert.Contains("'modules:' list", error.Problem);
    }

    [Fact]
    public void A_syntax_error_message_carries_YamlDotNet_s_problem_without_its_position_prefix()
    {
        var error = Assert.Throws<ModuleCatalogException>(() => ModuleCatalogParser.Parse(File, "modules:\n  - id: m\n   title: bad indent\n")).Error;

        Assert.DoesNotContain("(Line:", error.Problem);
        Assert.StartsWith("not valid YAML: ", error.Problem);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void The_example_in_the_modules_documentation_is_a_valid_catalog()
    {
        var page = System.IO.File.ReadAllText(RepositoryFiles.PathOf("docs", "modules.md"));
        var heading = page.IndexOf("## Editing the module catalog", StringComparison.Ordinal);
        Assert.True(heading >= 0, "docs/modules.md has no section '## Editing the module catalog'.");
        var section = page[heading..];
        var fence = section.IndexOf("```yaml\n", StringComparison.Ordinal);
        Assert.True(fence >= 0, "docs/modules.md, 'Editing the module catalog', has no ```yaml example.");
        var start = fence + "```yaml\n".Length;
        var example = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];

        var module = Assert.Single(ModuleCatalogParser.Parse("docs/modules.md", example).Modules);

        Assert.Equal("module-6", module.Id);
        Assert.Equal(4, module.Links.Length);
        Assert.Equal(2, module.Links[3].OrgIdIn(module));
    }

    [Fact]
    public void An_empty_module_list_is_a_valid_catalog() =>
        Assert.Empty(ModuleCatalogParser.Parse(File, "modules: []\n").Modules);
}
