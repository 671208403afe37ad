using System.Text.Json;
using System.Text.RegularExpressions;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

/// <summary>The configuration files under deploy/: they parse, and hold the settings without which a service misbehaves silently.</summary>
public sealed partial class DeployFilesTests
{
    public static TheoryData<string> YamlFiles() => [.. DeployFiles("*.yml", "*.yaml")];

    public static TheoryData<string> JsonFiles() => [.. DeployFiles("*.json")];

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Every_yaml_file_parses(string relativePath) =>
        Assert.NotNull(Yaml.Load(Repo.PathOf("deploy", relativePath)));

    [Theory]
    [MemberData(nameof(JsonFiles))]
    public void Every_json_file_parses(string relativePath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Repo.PathOf("deploy", relativePath)));

        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
    }

    [Fact]
    public void Prometheus_scrapes_every_service_and_the_portal()
    {
        var config = Yaml.Load(Repo.PathOf("deploy", "prometheus", "prometheus.yml"));
        var targets = config.Items("scrape_configs")
            .SelectMany(job => job.Items("static_configs").SelectMany(s => s.Items("targets")))
            .Select(t => t?.ToString())
            .ToList();

        Assert.Superset(
            new HashSet<string?> { "localhost:9090", "grafana:3000", "node-exporter:9100", "cadvisor:8080", "alertmanager:9093", "loki:3100", "tempo:3200", "panel:8585" },
            targets.ToHashSet());
        Assert.Equal("alertmanager:9093", config.Text("alerting", "alertmanagers", 0, "static_configs", 0, "targets", 0));
    }

    [Fact]
    public void Loki_keeps_logs_on_the_filesystem_and_its_compactor_applies_retention()
    {
        var loki = Yaml.Load(Repo.PathOf("deploy", "loki", "loki.yaml"));

        Assert.Equal("false", loki.Text("auth_enabled"), ignoreCase: true);
        Assert.Equal("/loki", loki.Text("common", "path_prefix"));
        Assert.Equal("v13", loki.Text("schema_config", "configs", 0, "schema"));
        Assert.Equal("tsdb", loki.Text("schema_config", "configs", 0, "store"));
        Assert.Equal("filesystem", loki.Text("schema_config", "configs", 0, "object_store"));
        Assert.Equal("24h", loki.Text("schema_config", "configs", 0, "index", "period"));
        Assert.Equal("true", loki.Text("compactor", "retention_enabled"), ignoreCase: true);
        Assert.Equal("filesystem", loki.Text("compactor", "delete_request_store"));
        Assert.StartsWith("/loki/", loki.Text("compactor", "working_directory"));
        Assert.Equal("${LOKI_RETENTION:-744h}", loki.Text("limits_config", "retention_period"));
    }

    [Fact]
    public void Tempo_receives_on_all_interfaces_keeps_traces_locally_and_generates_metrics()
    {
        var tempo = Yaml.Load(Repo.PathOf("deploy", "tempo", "tempo.yaml"));
        var receivers = tempo.At("distributor", "receivers");
        var endpoints = new[]
        {
            receivers.Text("otlp", "protocols", "grpc", "endpoint"), receivers.Text("otlp", "protocols", "http", "endpoint"),
            receivers.Text("jaeger", "protocols", "grpc", "endpoint"), receivers.Text("jaeger", "protocols", "thrift_http", "endpoint"),
            receivers.Text("jaeger", "protocols", "thrift_compact", "endpoint"), receivers.Text("jaeger", "protocols", "thrift_binary", "endpoint"),
            receivers.Text("zipkin", "endpoint"), receivers.Text("opencensus", "endpoint"),
        };

        Assert.All(endpoints, endpoint => Assert.StartsWith("0.0.0.0:", endpoint));
        Assert.Equal("local", tempo.Text("storage", "trace", "backend"));
        Assert.StartsWith("/var/tempo/", tempo.Text("storage", "trace", "wal", "path"));
        Assert.StartsWith("/var/tempo/", tempo.Text("storage", "trace", "local", "path"));
        Assert.Equal("${TEMPO_RETENTION:-720h}", tempo.Text("compactor", "compaction", "block_retention"));
        Assert.Equal("http://prometheus:9090/api/v1/write", tempo.Text("metrics_generator", "storage", "remote_write", 0, "url"));
        var processors = tempo.Items("overrides", "defaults", "metrics_generator", "processors").Select(p => p?.ToString());
        Assert.Contains("service-graphs", processors);
        Assert.Contains("span-metrics", processors);
    }

    [Fact]
    public async Task Alloy_discovers_containers_through_the_socket_labels_them_and_ships_nothing_else()
    {
        var path = Repo.PathOf("deploy", "alloy", "config.alloy");
        var config = await File.ReadAllTextAsync(path);
        var components = AlloyComponent().Matches(config).Select(m => m.Groups[1].Value).ToList();
        var targetLabels = AlloyTargetLabel().Matches(config).Select(m => m.Groups[1].Value).ToHashSet();

        // Container logs only, through the Docker API: no file source (the host's /var/log holds auth.log and the like).
        Assert.Equal(["discovery.docker", "discovery.relabel", "loki.source.docker", "loki.write"], components.Order());
        // discovery.docker and loki.source.docker both on the socket docker-compose.yml mounts read-only.
        Assert.Equal(2, AlloyDockerHost().Matches(config).Count);
        // The labels the dashboards, the course and the portal rely on, as Promtail set them.
        Assert.Superset(new HashSet<string> { "container", "stream", "service", "compose_project", "job" }, targetLabels);
        Assert.Matches(@"relabel_rules\s*=\s*discovery\.relabel\.containers\.rules", config);
        Assert.Matches(@"url\s*=\s*""http://loki:3100/loki/api/v1/push""", config);

        // The test stand-in loads it the way Alloy does (`alloy validate`): known components and arguments, references that resolve.
        var validate = await Tool.RunAsync("python3", [Repo.PathOf("tests", "stack", "images", "standins", "alloy.py"), "validate", path], TimeSpan.FromMinutes(1));
        Assert.True(validate.ExitCode == 0, validate.Output);
    }

    [GeneratedRegex(@"^([a-z_]+(?:\.[a-z_]+)+)\s+""[^""]+""\s*\{", RegexOptions.Multiline)]
    private static partial Regex AlloyComponent();

    [GeneratedRegex(@"target_label\s*=\s*""([^""]+)""")]
    private static partial Regex AlloyTargetLabel();

    [GeneratedRegex(@"^\s*host\s*=\s*""unix:///var/run/docker\.sock""", RegexOptions.Multiline)]
    private static partial Regex AlloyDockerHost();

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_postgres_init_script_creates_grafanas_database_and_user_and_is_executable()
    {
        var script = Repo.PathOf("deploy", "postgres", "initdb", "10-grafana.sh");
        var text = File.ReadAllText(script);

        Assert.Contains("CREATE ROLE grafana", text);
        Assert.Contains("CREATE DATABASE grafana OWNER grafana", text);
        Assert.Contains("GRAFANA_DB_PASSWORD", text);
        Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_influxdb_init_script_creates_a_read_only_token_for_grafana_and_is_executable()
    {
        var script = Repo.PathOf("deploy", "influxdb", "10-grafana-token.sh");
        var text = File.ReadAllText(script);

        Assert.Contains("influx auth create", text);
        Assert.Contains("--read-bucket", text);
        Assert.DoesNotContain("--write-bucket", text);
        Assert.DoesNotContain("--all-access", text);
        Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable (the image runs it with run-parts)");
    }

    private static IEnumerable<string> DeployFiles(params string[] patterns) =>
        patterns.SelectMany(p => Directory.GetFiles(Repo.Deploy, p, SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(Repo.Deploy, f))
            .Order(StringComparer.Ordinal);
}
