using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>
/// Builds the URLs of Grafana pages as the browser opens them, from <c>Grafana:PublicUrl</c> (which may carry a
/// sub-path, e.g. https://lab.example/grafana/). Every value that goes into a URL is escaped here.
/// </summary>
public sealed class GrafanaLinks
{
    /// <summary>Explore opens this time range; the instructor changes it in Grafana.</summary>
    public const string ExploreFrom = "now-1h";

    private readonly string _root;

    public GrafanaLinks(IOptions<GrafanaOptions> options)
        : this(options.Value.PublicUrl)
    {
    }

    public GrafanaLinks(string publicUrl)
    {
        _root = publicUrl.EndsWith('/') ? publicUrl : publicUrl + "/";
    }

    public string For(ModuleLink link, TrainingModule module)
    {
        var orgId = link.OrgIdIn(module);
        return link.Kind switch
        {
            ModuleLinkKind.Dashboard => Dashboard(link.Target, orgId),
            ModuleLinkKind.Folder => Folder(link.Target, orgId),
            ModuleLinkKind.Explore => Explore(link.Explore!, orgId),
            _ => Page(link.Target, orgId),
        };
    }

    public string Dashboard(string uid, int? orgId = null) => Build($"d/{Uri.EscapeDataString(uid)}", [], orgId);

    public string Folder(string uid, int? orgId = null) => Build($"dashboards/f/{Uri.EscapeDataString(uid)}", [], orgId);

    public string Page(string name, int? orgId = null) =>
        Build(ModuleCatalogParser.Pages.TryGetValue(name, out var path) ? path : throw new ArgumentException($"Unknown Grafana page '{name}'.", nameof(name)), [], orgId);

    /// <summary>
    /// Explore with one pane on the data source and the query, in the URL format of Grafana 10 and later
    /// (<c>/explore?schemaVersion=1&amp;panes={…}</c>); the panes JSON is percent-encoded as one query value.
    /// </summary>
    public string Explore(ExploreQuery query, int? orgId = null) =>
        Build("explore", [("schemaVersion", "1"), ("panes", PanesJson(query))], orgId);

    /// <summary>The panes value: one pane (key "a") with the data source, the query in that data source's field, and the range.</summary>
    public static string PanesJson(ExploreQuery query)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("a");
            json.WriteString("datasource", query.DataSourceUid);
            json.WriteStartArray("queries");
            json.WriteStartObject();
            json.WriteString("refId", "A");
            json.WriteStartObject("datasource");
            json.WriteString("type", query.DataSourceType);
            json.WriteString("uid", query.DataSourceUid);
            json.WriteEndObject();
            switch (query.DataSourceType)
            {
                case "prometheus":
                    json.WriteString("expr", query.Query);
                    break;
                case "loki":
                    json.WriteString("expr", query.Query);
                    json.WriteString("queryType", "range");
                    break;
                case "tempo":
                    json.WriteString("queryType", "traceql");
                    json.WriteString("query", query.Query);
                    break;
                default:
                    // InfluxDB in Flux mode, and any data source whose query is plain text.
                    json.WriteString("query", query.Query);
                    break;
            }

            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartObject("range");
            json.WriteString("from", ExploreFrom);
            json.WriteString("to", "now");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private string Build(string path, IReadOnlyList<(string Name, string Value)> parameters, int? orgId)
    {
        var url = new StringBuilder(_root).Append(path);
        var separator = '?';
        foreach (var (name, value) in parameters)
        {
            url.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        if (orgId is { } org)
        {
            url.Append(separator).Append("orgId=").Append(org.ToString(CultureInfo.InvariantCulture));
        }

        return url.ToString();
    }
}
