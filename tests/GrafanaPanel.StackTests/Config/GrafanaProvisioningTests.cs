using System.Text.Json;
using System.Text.RegularExpressions;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

/// <summary>Grafana's provisioning (data sources, dashboard providers), its dashboards and its security settings.</summary>
public sealed partial class GrafanaProvisioningTests(ResolvedComposeFixture compose) : IClassFixture<ResolvedComposeFixture>
{
    private static readonly string Provisioning = Repo.PathOf("deploy", "grafana", "provisioning");
    private static readonly string Dashboards = Repo.PathOf("deploy", "grafana", "dashboards");

    private static IReadOnlyList<object?> DataSources() =>
        Yaml.Load(Path.Combine(Provisioning, "datasources", "datasources.yaml")).Items("datasources").ToList();

    private static object? DataSource(string uid) => DataSources().Single(d => d.Text("uid") == uid);

    private IEnumerable<ComposeMount> Mounts(string service) => compose.Mounts(service);

    private static IEnumerable<string> DashboardPaths() =>
        Directory.GetFiles(Dashboards, "*.json", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Dashboards, f)).Order();

    public static TheoryData<string> DashboardFiles() => [.. DashboardPaths()];

    [Fact]
    public void The_data_sources_have_the_fixed_uids_the_dashboards_and_the_portal_use()
    {
        var byUid = DataSources().ToDictionary(d => d.Text("uid")!, d => d.Text("type"));

        Assert.Equal("prometheus", byUid["prometheus"]);
        Assert.Equal("loki", byUid["loki"]);
        Assert.Equal("tempo", byUid["tempo"]);
        Assert.Equal("influxdb", byUid["influxdb"]);
        Assert.Single(DataSources(), d => d.Text("isDefault") == "true");
        Assert.All(DataSources(), d => Assert.Equal("1", d.Text("orgId")));
    }

    [Fact]
    public void Traces_logs_and_metrics_are_correlated()
    {
        Assert.Equal("tempo", DataSource("prometheus").Text("jsonData", "exemplarTraceIdDestinations", 0, "datasourceUid"));
        Assert.Equal("tempo", DataSource("loki").Text("jsonData", "derivedFields", 0, "datasourceUid"));
        var tempo = DataSource("tempo").At("jsonData");
        Assert.Equal("loki", tempo.Text("tracesToLogsV2", "datasourceUid"));
        Assert.Equal("prometheus", tempo.Text("tracesToMetrics", "datasourceUid"));
        Assert.Equal("prometheus", tempo.Text("serviceMap", "datasourceUid"));
        Assert.Equal("true", tempo.Text("nodeGraph", "enabled"), ignoreCase: true);
    }

    [Fact]
    public void InfluxDB_is_queried_with_Flux_in_the_training_bucket_with_the_read_only_token_influxdb_writes_not_the_operator_token()
    {
        var influx = DataSource("influxdb");

        Assert.Equal("Flux", influx.Text("jsonData", "version"));
        Assert.Equal("data2ai", influx.Text("jsonData", "organization"));
        Assert.Equal("training", influx.Text("jsonData", "defaultBucket"));
        Assert.Equal("$__file{/etc/grafana/influxdb/grafana-token}", influx.Text("secureJsonData", "token"));
        // The file comes from the volume InfluxDB's first-start script writes (deploy/influxdb), read-only in Grafana.
        var grafanaMount = Mounts("grafana").Single(m => m.Target == "/etc/grafana/influxdb");
        Assert.True(grafanaMount.ReadOnly);
        Assert.Contains(Mounts("influxdb"), m => m.Type == "volume" && m.Source == grafanaMount.Source && m.Target == "/home/influxdb" && !m.ReadOnly);
        Assert.Contains(Mounts("influxdb"), m => m.Type == "bind" && m.Source == Repo.PathOf("deploy", "influxdb") && m.Target == "/docker-entrypoint-initdb.d" && m.ReadOnly);
        // Grafana's environment holds no InfluxDB token at all.
        var environment = compose.Service("grafana").GetProperty("environment");
        var influxEnvironment = compose.Service("influxdb").GetProperty("environment");
        var operatorToken = influxEnvironment.GetProperty("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN").GetString();
        Assert.DoesNotContain(environment.EnumerateObject(), p => p.Value.GetString()!.Contains(operatorToken!, StringComparison.Ordinal));
        Assert.Equal("data2ai", influxEnvironment.GetProperty("DOCKER_INFLUXDB_INIT_ORG").GetString());
        Assert.Equal("training", influxEnvironment.GetProperty("DOCKER_INFLUXDB_INIT_BUCKET").GetString());
    }

    [Fact]
    public void Provisioning_files_expand_only_variables_grafana_has_and_escape_literal_dollars()
    {
        var grafanaEnvironment = compose.Service("grafana").GetProperty("environment").EnumerateObject().Select(p => p.Name).ToHashSet();
        var files = Directory.GetFiles(Provisioning, "*.yaml", SearchOption.AllDirectories);

        foreach (var file in files)
        {
            // Grafana expands values after parsing the YAML: comments are not expanded.
            var values = string.Join('\n', File.ReadLines(file).Where(line => !line.TrimStart().StartsWith('#')));
            foreach (Match match in GrafanaExpansion().Matches(values))
            {
                var name = match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
                Assert.True(match.Value == "$$" || match.Value.StartsWith("$__file{", StringComparison.Ordinal) || grafanaEnvironment.Contains(name),
                    $"{Path.GetFileName(file)}: '{match.Value}' is expanded from Grafana's environment, which has no {name}; write $$ for a literal $");
            }
        }
    }

    [Fact]
    public void There_is_one_dashboard_folder_per_training_module()
    {
        var providers = Yaml.Load(Path.Combine(Provisioning, "dashboards", "modules.yaml")).Items("providers").ToList();

        Assert.Equal(new[] { "module-1", "module-2", "module-3", "module-4", "module-5" }, providers.Select(p => p.Text("folderUid")).Order());
        foreach (var provider in providers)
        {
            var path = provider.Text("options", "path")!;
            Assert.StartsWith("/etc/grafana/dashboards/", path);
            var local = Path.Combine(Dashboards, path["/etc/grafana/dashboards/".Length..]);
            Assert.True(Directory.GetFiles(local, "*.json").Length > 0, $"{provider.Text("folder")} has no dashboard in {local}");
            Assert.StartsWith($"Module {provider.Text("folderUid")!["module-".Length..]}", provider.Text("folder"));
        }
    }

    [Fact]
    public void Every_dashboard_sits_in_a_provisioned_module_folder()
    {
        var providerDirectories = Yaml.Load(Path.Combine(Provisioning, "dashboards", "modules.yaml")).Items("providers")
            .Select(p => p.Text("options", "path")!["/etc/grafana/dashboards/".Length..]).ToHashSet();

        Assert.All(DashboardPaths(),
            file => Assert.Contains(Path.GetDirectoryName(file)!, providerDirectories));
    }

    [Fact]
    public void Every_dashboard_has_a_unique_uid()
    {
        var uids = DashboardPaths().Select(f => (File: f, Uid: Dashboard(f).GetProperty("uid").GetString())).ToList();

        Assert.All(uids, d => Assert.False(string.IsNullOrWhiteSpace(d.Uid), $"{d.File} has no uid"));
        Assert.Empty(uids.GroupBy(d => d.Uid).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(d => d.File))}"));
    }

    [Fact]
    public void The_course_dashboards_exist()
    {
        var uids = DashboardPaths().Select(f => Dashboard(f).GetProperty("uid").GetString()).ToHashSet();

        Assert.Superset(new HashSet<string?>
        {
            "stack-health", "host-node-exporter", "containers-cadvisor", "logs-loki", "traces-tempo", "influxdb-flux", "template-variables",
        }, uids);
    }

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void A_dashboard_uses_only_provisioned_data_sources_by_uid_and_type(string file)
    {
        var provisioned = DataSources().ToDictionary(d => d.Text("uid")!, d => d.Text("type"));
        var references = DataSourceReferences(Dashboard(file)).ToList();

        Assert.NotEmpty(references);
        foreach (var reference in references)
        {
            Assert.True(reference.ValueKind == JsonValueKind.Object, $"{file}: data source referenced by name ({reference}); use {{\"type\", \"uid\"}}");
            var uid = reference.GetProperty("uid").GetString()!;
            Assert.True(provisioned.ContainsKey(uid), $"{file}: data source uid '{uid}' is not provisioned");
            Assert.Equal(provisioned[uid], reference.GetProperty("type").GetString());
        }
    }

    [Fact]
    public void The_module_5_dashboard_shows_the_kinds_of_template_variables()
    {
        var variables = Dashboard(Path.Combine("module-5", "template-variables.json")).GetProperty("templating").GetProperty("list")
            .EnumerateArray().Select(v => v.GetProperty("type").GetString()).ToHashSet();

        Assert.Superset(new HashSet<string?> { "query", "custom", "interval", "constant", "adhoc" }, variables);
    }

    [Fact]
    public void Grafana_keeps_the_security_settings_of_the_course()
    {
        var environment = compose.Service("grafana").GetProperty("environment");
        string Setting(string name) => environment.GetProperty(name).GetString()!;

        Assert.Equal("false", Setting("GF_AUTH_ANONYMOUS_ENABLED"));
        Assert.Equal("false", Setting("GF_USERS_ALLOW_SIGN_UP"));
        Assert.Equal("true", Setting("GF_AUTH_BASIC_PASSWORD_POLICY"));
        Assert.Equal("8h", Setting("GF_AUTH_LOGIN_MAXIMUM_INACTIVE_LIFETIME_DURATION"));
        Assert.Equal("24h", Setting("GF_AUTH_LOGIN_MAXIMUM_LIFETIME_DURATION"));
        Assert.Equal(Compose.ExampleWithTestSecrets()["GRAFANA_ADMIN_PASSWORD"], Setting("GF_SECURITY_ADMIN_PASSWORD"));
        Assert.Equal("postgres", Setting("GF_DATABASE_TYPE"));
        Assert.Equal("postgres:5432", Setting("GF_DATABASE_HOST"));
        Assert.Equal("grafana", Setting("GF_DATABASE_NAME"));
        Assert.Equal("redis", Setting("GF_REMOTE_CACHE_TYPE"));
        Assert.StartsWith("addr=redis:6379,", Setting("GF_REMOTE_CACHE_CONNSTR"));
    }

    private static JsonElement Dashboard(string relativePath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dashboards, relativePath)));
        return document.RootElement.Clone();
    }

    private static IEnumerable<JsonElement> DataSourceReferences(JsonElement node)
    {
        if (node.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in node.EnumerateObject())
            {
                if (property.Name == "datasource")
                {
                    yield return property.Value;
                }
                else
                {
                    foreach (var reference in DataSourceReferences(property.Value))
                    {
                        yield return reference;
                    }
                }
            }
        }
        else if (node.ValueKind == JsonValueKind.Array)
        {
            foreach (var reference in node.EnumerateArray().SelectMany(DataSourceReferences))
            {
                yield return reference;
            }
        }
    }

    // Grafana's provisioning expansion: $$ (a literal $), $__file{path} (a file's content), ${NAME}, $NAME.
    [GeneratedRegex(@"\$\$|\$__file\{[^}]+\}|\$\{(\w+)\}|\$(\w+)")]
    private static partial Regex GrafanaExpansion();
}
