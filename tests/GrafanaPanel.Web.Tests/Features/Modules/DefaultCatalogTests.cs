using System.Text.Json;
using GrafanaPanel.Web.Features.Modules;
using YamlDotNet.RepresentationModel;

namespace GrafanaPanel.Web.Tests.Features.Modules;

/// <summary>
/// The shipped catalog (deploy/portal/modules.yaml) against what deploy/ really provisions: the dashboard JSON
/// files, the dashboard providers' folders, the data sources and the compose services. Parsed from the real files.
/// </summary>
public sealed class DefaultCatalogTests
{
    private const string PublicUrl = "http://lab.example:3000";

    private static readonly ModuleCatalog Catalog = Load();
    private static readonly GrafanaLinks Links = new(PublicUrl);

    private static ModuleCatalog Load()
    {
        var path = RepositoryFiles.PathOf("deploy", "portal", "modules.yaml");
        return ModuleCatalogParser.Parse(path, File.ReadAllText(path));
    }

    private static IReadOnlySet<string> ProvisionedDashboards() =>
        Directory.GetFiles(RepositoryFiles.PathOf("deploy", "grafana", "dashboards"), "*.json", SearchOption.AllDirectories)
            .Select(file => JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("uid").GetString()!)
            .ToHashSet();

    private static YamlMappingNode LoadYaml(params string[] path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(RepositoryFiles.PathOf(path))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string? Text(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    private static IReadOnlySet<string> ProvisionedFolders() =>
        ((YamlSequenceNode)LoadYaml("deploy", "grafana", "provisioning", "dashboards", "modules.yaml").Children[new YamlScalarNode("providers")])
            .Select(p => Text(p, "folderUid")!).ToHashSet();

    private static IReadOnlyDictionary<string, string> ProvisionedDataSources() =>
        ((YamlSequenceNode)LoadYaml("deploy", "grafana", "provisioning", "datasources", "datasources.yaml").Children[new YamlScalarNode("datasources")])
            .ToDictionary(d => Text(d, "uid")!, d => Text(d, "type")!);

    private static IReadOnlySet<string> ComposeServices() =>
        ((YamlMappingNode)LoadYaml("docker-compose.yml").Children[new YamlScalarNode("services")]).Children.Keys
            .Select(k => ((YamlScalarNode)k).Value!).ToHashSet();

    public static TheoryData<string> ModuleIds() => [.. Catalog.Modules.Select(m => m.Id)];

    [Theory]
    [MemberData(nameof(ModuleIds))]
    public void Every_dashboard_link_points_at_a_provisioned_dashboard(string id)
    {
        var provisioned = ProvisionedDashboards();
        var module = Catalog.Find(id)!;

        Assert.All(module.Links.Where(l => l.Kind == ModuleLinkKind.Dashboard),
            link => Assert.True(provisioned.Contains(link.Target), $"{id}: dashboard '{link.Target}' is not in deploy/grafana/dashboards"));
    }

    [Theory]
    [MemberData(nameof(ModuleIds))]
    public void Every_folder_link_points_at_a_provisioned_folder(string id)
    {
        var folders = ProvisionedFolders();

        Assert.All(Catalog.Find(id)!.Links.Where(l => l.Kind == ModuleLinkKind.Folder),
            link => Assert.True(folders.Contains(link.Target), $"{id}: folder '{link.Target}' is not provisioned"));
    }

    [Theory]
    [MemberData(nameof(ModuleIds))]
    public void Every_explore_link_names_a_provisioned_data_source_with_its_type(string id)
    {
        var dataSources = ProvisionedDataSources();

        Assert.All(Catalog.Find(id)!.Links.Where(l => l.Kind == ModuleLinkKind.Explore), link =>
        {
            Assert.True(dataSources.TryGetValue(link.Explore!.DataSourceUid, out var type), $"{id}: data source '{link.Explore.DataSourceUid}' is not provisioned");
            Assert.Equal(type, link.Explore.DataSourceType);
        });
    }

    [Theory]
    [MemberData(nameof(ModuleIds))]
    public void Every_required_service_is_a_service_of_the_compose_file_and_grafana_is_one(string id)
    {
        var services = ComposeServices();
        var module = Catalog.Find(id)!;

        Assert.Contains("grafana", module.Services);
        Assert.All(module.Services, s => Assert.True(services.Contains(s), $"{id}: '{s}' is not a service of docker-compose.yml"));
    }

    [Theory]
    [MemberData(nameof(ModuleIds))]
    public void Every_link_is_a_well_formed_absolute_url_under_the_public_url(string id)
    {
        var module = Catalog.Find(id)!;

        Assert.NotEmpty(module.Links);
        Assert.All(module.Links, link =>
        {
            var url = Links.For(link, module);
            Assert.True(Uri.TryCreate(url, UriKind.Absolute, out var uri), $"{link.Title}: {url}");
            Assert.StartsWith(PublicUrl + "/", url);
            Assert.Equal(url, uri!.AbsoluteUri);
            Assert.DoesNotContain(' ', url);
        });
    }

    [Fact]
    public void Every_provisioned_dashboard_belongs_to_some_module()
    {
        var linked = Catalog.Modules.SelectMany(m => m.Links).Where(l => l.Kind == ModuleLinkKind.Dashboard).Select(l => l.Target).ToHashSet();

        Assert.Empty(ProvisionedDashboards().Except(linked));
    }

    [Fact]
    public void Module_4_opens_its_links_in_organization_1()
    {
        var module = Catalog.Find("module-4")!;

        Assert.All(module.Links, link => Assert.EndsWith("orgId=1", Links.For(link, module)));
        Assert.Equal($"{PublicUrl}/d/organization-playground?orgId=1",
            Links.For(module.Links.Single(l => l.Target == "organization-playground"), module));
    }
}
