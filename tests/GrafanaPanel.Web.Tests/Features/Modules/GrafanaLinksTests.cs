using System.Text.Json;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.AspNetCore.WebUtilities;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class GrafanaLinksTests
{
    private readonly GrafanaLinks _links = new("http://lab.example:3000");

    [Fact]
    public void A_dashboard_opens_by_uid() =>
        Assert.Equal("http://lab.example:3000/d/stack-health", _links.Dashboard("stack-health"));

    [Fact]
    public void An_organization_is_added_as_orgId() =>
        Assert.Equal("http://lab.example:3000/d/stack-health?orgId=4", _links.Dashboard("stack-health", 4));

    [Fact]
    public void A_public_url_with_a_sub_path_keeps_it_with_or_without_a_trailing_slash()
    {
        Assert.Equal("https://lab.example/grafana/dashboards/f/module-1", new GrafanaLinks("https://lab.example/grafana").Folder("module-1"));
        Assert.Equal("https://lab.example/grafana/alerting/list", new GrafanaLinks("https://lab.example/grafana/").Page("alerting"));
    }

    [Theory]
    [InlineData("alerting", "alerting/list")]
    [InlineData("admin-users", "admin/users")]
    [InlineData("admin-orgs", "admin/orgs")]
    [InlineData("teams", "org/teams")]
    [InlineData("datasources", "connections/datasources")]
    public void Pages_open_grafana_s_own_paths(string page, string path) =>
        Assert.Equal($"http://lab.example:3000/{path}?orgId=1", _links.Page(page, 1));

    [Fact]
    public void An_unknown_page_is_refused() => Assert.Throws<ArgumentException>(() => _links.Page("nowhere"));

    [Fact]
    public void Explore_carries_the_data_source_and_query_as_one_encoded_panes_value_that_decodes_back()
    {
        // Quotes, braces, pipes, ampersands, plus, hash, percent and non-ASCII must all survive the trip.
        const string query = "{service=\"grafana\"} |= \"a&b=c+d #1 100% – ü\"";

        var url = _links.Explore(new ExploreQuery("loki", "loki", query), orgId: 2);

        var uri = new Uri(url);
        Assert.Equal("/explore", uri.AbsolutePath);
        Assert.DoesNotContain('"', url);
        Assert.DoesNotContain(' ', url);
        Assert.DoesNotContain('{', url);
        var parameters = QueryHelpers.ParseQuery(uri.Query);
        Assert.Equal("1", parameters["schemaVersion"]);
        Assert.Equal("2", parameters["orgId"]);
        using var panes = JsonDocument.Parse(parameters["panes"].ToString());
        var pane = Assert.Single(panes.RootElement.EnumerateObject()).Value;
        Assert.Equal("loki", pane.GetProperty("datasource").GetString());
        var target = Assert.Single(pane.GetProperty("queries").EnumerateArray());
        Assert.Equal("A", target.GetProperty("refId").GetString());
        Assert.Equal(query, target.GetProperty("expr").GetString());
        Assert.Equal("loki", target.GetProperty("datasource").GetProperty("uid").GetString());
        Assert.Equal("loki", target.GetProperty("datasource").GetProperty("type").GetString());
        Assert.Equal("now-1h", pane.GetProperty("range").GetProperty("from").GetString());
        Assert.Equal("now", pane.GetProperty("range").GetProperty("to").GetString());
    }

    [Theory]
    [InlineData("prometheus", "expr", null)]
    [InlineData("loki", "expr", "range")]
    [InlineData("tempo", "query", "traceql")]
    [InlineData("influxdb", "query", null)]
    public void Each_data_source_type_gets_its_query_in_the_field_grafana_reads(string type, string field, string? queryType)
    {
        using var panes = JsonDocument.Parse(GrafanaLinks.PanesJson(new ExploreQuery("ds", type, "Q")));

        var target = panes.RootElement.GetProperty("a").GetProperty("queries")[0];
        Assert.Equal("Q", target.GetProperty(field).GetString());
        Assert.Equal(queryType, target.TryGetProperty("queryType", out var kind) ? kind.GetString() : null);
    }

    [Fact]
    public void A_uid_with_characters_of_a_url_is_escaped() =>
        Assert.Equal("http://lab.example:3000/d/a%2Fb%3Fc", _links.Dashboard("a/b?c"));
}
