using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>
/// Reads the module catalog (deploy/portal/modules.yaml). It walks YAML nodes rather than deserializing into
/// classes so that every problem, a misspelt key included, is reported with the line it is on; instructors edit
/// this file by hand, and "line 42: unknown key 'dashbaord'" is what they need to fix it.
/// </summary>
public static partial class ModuleCatalogParser
{
    /// <summary>Grafana pages a link may name, and their paths under Grafana's root URL.</summary>
    public static IReadOnlyDictionary<string, string> Pages { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["alerting"] = "alerting/list",
        ["alert-rules-new"] = "alerting/new/alerting",
        ["contact-points"] = "alerting/notifications",
        ["notification-policies"] = "alerting/routes",
        ["silences"] = "alerting/silences",
        ["dashboards"] = "dashboards",
        ["datasources"] = "connections/datasources",
        ["explore"] = "explore",
        ["admin-users"] = "admin/users",
        ["admin-orgs"] = "admin/orgs",
        ["org-users"] = "org/users",
        ["org-settings"] = "org",
        ["teams"] = "org/teams",
        ["service-accounts"] = "org/serviceaccounts",
    };

    /// <summary>Data source types Explore links support, each with the query model field Grafana reads.</summary>
    public static IReadOnlySet<string> ExploreTypes { get; } = new HashSet<string>(StringComparer.Ordinal) { "prometheus", "loki", "tempo", "influxdb" };

    private static readonly string[] ModuleKeys = ["id", "title", "summary", "goals", "services", "links", "orgId", "baseline", "learnerAccounts"];
    private static readonly string[] LinkKeys = ["title", "dashboard", "folder", "explore", "page", "orgId"];
    private static readonly string[] LinkTargets = ["dashboard", "folder", "explore", "page"];
    private static readonly string[] ExploreKeys = ["datasource", "type", "query"];

    public static ModuleCatalog Parse(string path, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ModuleCatalogException(new CatalogError(path, LineOf(ex.Start), ColumnOf(ex.Start), YamlProblem(ex)));
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ModuleCatalogException(new CatalogError(path, stream.Documents.Count == 0 ? null : LineOf(stream.Documents[0].RootNode.Start), null,
                "the file must be a mapping with a 'modules:' list (see the comment at the top of deploy/portal/modules.yaml)"));
        }

        var reader = new NodeReader(path);
        reader.RejectUnknownKeys(root, ["modules"], "the file");
        var list = reader.Get(root, "modules") as YamlSequenceNode
            ?? throw reader.Fail(root, "'modules:' must be a list of modules");

        var modules = ImmutableArray.CreateBuilder<TrainingModule>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in list)
        {
            var module = reader.ReadModule(node);
            if (seen.TryGetValue(module.Id, out var firstLine))
            {
                throw reader.Fail(node, $"module id '{module.Id}' is used twice (first on line {firstLine}); each module needs its own id");
            }

            seen[module.Id] = module.Line;
            modules.Add(module);
        }

        return new ModuleCatalog(path, modules.ToImmutable());
    }

    private static int LineOf(Mark mark) => (int)mark.Line;

    private static int ColumnOf(Mark mark) => (int)mark.Column;

    /// <summary>YamlDotNet prefixes its messages with "(Line: 3, Col: 5, Idx: 20) - (…): "; the line is reported separately.</summary>
    private static string YamlProblem(YamlException ex) => MarkPrefix().Replace(ex.Message, "").Trim() is { Length: > 0 } problem
        ? $"not valid YAML: {problem}"
        : "not valid YAML";

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex MarkPrefix();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex ModuleId();

    // Grafana's own rule for dashboard, folder and data source uids.
    [GeneratedRegex("^[a-zA-Z0-9_-]{1,40}$")]
    private static partial Regex GrafanaUid();

    // Compose service names.
    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")]
    private static partial Regex ServiceName();

    private sealed class NodeReader(string path)
    {
        public ModuleCatalogException Fail(YamlNode node, string problem) =>
            new(new CatalogError(path, LineOf(node.Start), ColumnOf(node.Start), problem));

        public TrainingModule ReadModule(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                throw Fail(node, "each entry of 'modules:' must be a mapping (id, title, summary, goals, services, links, …)");
            }

            var id = RequiredText(map, "id", "a module");
            var where = $"module '{id}'";
            if (!ModuleId().IsMatch(id))
            {
                throw Fail(Get(map, "id")!, $"{where}: the id must be lower-case letters, digits and '-' (it is the page's address), e.g. module-1");
            }

            RejectUnknownKeys(map, ModuleKeys, where);
            var services = TextList(map, "services", where);
            foreach (var (service, serviceNode) in services)
            {
                if (!ServiceName().IsMatch(service))
                {
                    throw Fail(serviceNode, $"{where}: '{service}' is not a compose service name");
                }
            }

            var links = Get(map, "links") switch
            {
                null => [],
                YamlSequenceNode sequence => sequence.Select(l => ReadLink(l, where)).ToImmutableArray(),
                var other => throw Fail(other, $"{where}: 'links:' must be a list of links"),
            };

            var baseline = OptionalText(map, "baseline", where);
            if (baseline is { Length: > 128 })
            {
                throw Fail(Get(map, "baseline")!, $"{where}: the baseline name is longer than 128 characters");
            }

            return new TrainingModule(
                id,
                RequiredText(map, "title", where),
                OptionalText(map, "summary", where) ?? "",
                [.. TextList(map, "goals", where).Select(g => g.Text)],
                [.. services.Select(s => s.Text).Distinct(StringComparer.Ordinal)],
                links,
                OptionalOrgId(map, where),
                baseline,
                OptionalBool(map, "learnerAccounts", where) ?? false,
                LineOf(map.Start));
        }

        private ModuleLink ReadLink(YamlNode node, string module)
        {
            if (node is not YamlMappingNode map)
            {
                throw Fail(node, $"{module}: each link must be a mapping with a title and one of {string.Join(", ", LinkTargets)}");
            }

            RejectUnknownKeys(map, LinkKeys, $"{module}, a link");
            var title = RequiredText(map, "title", $"{module}, a link");
            var where = $"{module}, link '{title}'";
            var targets = LinkTargets.Where(key => Get(map, key) is not null).ToList();
            if (targets.Count != 1)
            {
                throw Fail(map, $"{where}: a link needs exactly one of {string.Join(", ", LinkTargets)}" +
                                (targets.Count > 1 ? $" (it has {string.Join(" and ", targets)})" : ""));
            }

            var orgId = OptionalOrgId(map, where);
            var line = LineOf(map.Start);
            switch (targets[0])
            {
                case "dashboard":
                    return new ModuleLink(title, ModuleLinkKind.Dashboard, Uid(map, "dashboard", where), null, orgId, line);
                case "folder":
                    return new ModuleLink(title, ModuleLinkKind.Folder, Uid(map, "folder", where), null, orgId, line);
                case "page":
                    var page = RequiredText(map, "page", where);
                    if (!Pages.ContainsKey(page))
                    {
                        throw Fail(Get(map, "page")!, $"{where}: unknown page '{page}'; use one of {string.Join(", ", Pages.Keys)}");
                    }

                    return new ModuleLink(title, ModuleLinkKind.Page, page, null, orgId, line);
                default:
                    var explore = ReadExplore(Get(map, "explore")!, where);
                    return new ModuleLink(title, ModuleLinkKind.Explore, explore.DataSourceUid, explore, orgId, line);
            }
        }

        private ExploreQuery ReadExplore(YamlNode node, string where)
        {
            if (node is not YamlMappingNode map)
            {
                throw Fail(node, $"{where}: 'explore:' must be a mapping with datasource, type and query");
            }

            RejectUnknownKeys(map, ExploreKeys, $"{where}, explore");
            var type = RequiredText(map, "type", $"{where}, explore");
            if (!ExploreTypes.Contains(type))
            {
                throw Fail(Get(map, "type")!, $"{where}: unknown data source type '{type}'; use one of {string.Join(", ", ExploreTypes)}");
            }

            return new ExploreQuery(Uid(map, "datasource", $"{where}, explore"), type, RequiredText(map, "query", $"{where}, explore"));
        }

        public void RejectUnknownKeys(YamlMappingNode map, IReadOnlyCollection<string> known, string where)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                if (!known.Contains(name))
                {
                    throw Fail(key, $"{where}: unknown key '{name}'; the keys here are {string.Join(", ", known)}");
                }
            }
        }

        public YamlNode? Get(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) && !IsNull(value) ? value : null;

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) } scalar
            && scalar.Value is null or "" or "~" or "null";

        private string RequiredText(YamlMappingNode map, string key, string where) =>
            OptionalText(map, key, where) is { Length: > 0 } text
                ? text
                : throw Fail(Get(map, key) ?? map, $"{where}: '{key}:' is required");

        private string? OptionalText(YamlMappingNode map, string key, string where) => Get(map, key) switch
        {
            null => null,
            YamlScalarNode scalar => scalar.Value?.Trim(),
            var other => throw Fail(other, $"{where}: '{key}:' must be text, not a list or mapping"),
        };

        private List<(string Text, YamlNode Node)> TextList(YamlMappingNode map, string key, string where) => Get(map, key) switch
        {
            null => [],
            YamlSequenceNode sequence => sequence.Select(item => item is YamlScalarNode { Value: { Length: > 0 } value }
                ? (value.Trim(), item)
                : throw Fail(item, $"{where}: every entry of '{key}:' must be text")).ToList(),
            var other => throw Fail(other, $"{where}: '{key}:' must be a list, e.g. [a, b]"),
        };

        private string Uid(YamlMappingNode map, string key, string where)
        {
            var uid = RequiredText(map, key, where);
            return GrafanaUid().IsMatch(uid)
                ? uid
                : throw Fail(Get(map, key)!, $"{where}: '{uid}' is not a Grafana uid (letters, digits, '-' and '_', at most 40)");
        }

        private int? OptionalOrgId(YamlMappingNode map, string where)
        {
            var text = OptionalText(map, "orgId", where);
            if (text is null)
            {
                return null;
            }

            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var orgId) && orgId >= 1
                ? orgId
                : throw Fail(Get(map, "orgId")!, $"{where}: orgId must be a Grafana organization id (a whole number from 1), not '{text}'");
        }

        private bool? OptionalBool(YamlMappingNode map, string key, string where) => OptionalText(map, key, where) switch
        {
            null => null,
            "true" or "True" or "yes" => true,
            "false" or "False" or "no" => false,
            var other => throw Fail(Get(map, key)!, $"{where}: '{key}:' must be true or false, not '{other}'"),
        };
    }
}
