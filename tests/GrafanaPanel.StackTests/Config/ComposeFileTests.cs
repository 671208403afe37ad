using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

public sealed class ComposeFileTests(ResolvedComposeFixture compose) : IClassFixture<ResolvedComposeFixture>
{
    public static readonly string[] LabServices =
        ["grafana", "prometheus", "loki", "tempo", "influxdb", "postgres", "redis", "alertmanager", "node-exporter", "cadvisor", "promtail"];

    [Fact]
    public async Task Config_is_valid_with_the_example_env_file()
    {
        var result = await Compose.RunAsync(Repo.EnvExample, "config", "--quiet");

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public void The_project_is_named_grafana_training() =>
        Assert.Equal("grafana-training", compose.Model.GetProperty("name").GetString());

    [Fact]
    public void The_stack_has_the_eleven_lab_services_plus_the_portal_and_its_database()
    {
        string[] expected = [.. LabServices, "panel", "panel-db"];

        Assert.Equal(expected.Order(), compose.ServiceNames.Order());
    }

    [Fact]
    public void Every_service_has_a_health_check()
    {
        foreach (var name in compose.ServiceNames)
        {
            Assert.True(compose.Service(name).TryGetProperty("healthcheck", out var check), $"{name} has no healthcheck");
            Assert.False(check.TryGetProperty("disable", out var disabled) && disabled.GetBoolean(), $"{name}'s healthcheck is disabled");
            var test = check.GetProperty("test").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.True(test.Count >= 2 && test[0] is "CMD" or "CMD-SHELL", $"{name}'s healthcheck test is not a command: {string.Join(' ', test)}");
        }
    }

    [Fact]
    public void Every_image_is_pinned_to_a_tag_other_than_latest()
    {
        foreach (var name in LabServices.Append("panel-db"))
        {
            var image = compose.Service(name).GetProperty("image").GetString()!;
            var tag = image.Contains(':') ? image[(image.LastIndexOf(':') + 1)..] : "";
            Assert.True(tag.Length > 0 && tag != "latest" && !tag.Contains('/'), $"{name} uses image '{image}': pin a release tag");
        }
    }

    [Fact]
    public void The_portal_is_built_from_the_repository_Dockerfile()
    {
        var build = compose.Service("panel").GetProperty("build");

        Assert.Equal(Repo.Root, build.GetProperty("context").GetString());
        Assert.Equal("Dockerfile", build.GetProperty("dockerfile").GetString());
    }

    [Theory]
    [InlineData("grafana", "grafana_data", "/var/lib/grafana")]
    [InlineData("prometheus", "prometheus_data", "/prometheus")]
    [InlineData("loki", "loki_data", "/loki")]
    [InlineData("tempo", "tempo_data", "/var/tempo")]
    [InlineData("influxdb", "influxdb_data", "/var/lib/influxdb2")]
    [InlineData("influxdb", "influxdb_config", "/etc/influxdb2")]
    [InlineData("postgres", "postgres_data", "/var/lib/postgresql/data")]
    [InlineData("redis", "redis_data", "/data")]
    [InlineData("alertmanager", "alertmanager_data", "/alertmanager")]
    [InlineData("promtail", "promtail_positions", "/var/lib/promtail")]
    [InlineData("panel-db", "panel_data", "/var/lib/postgresql/data")]
    [InlineData("panel", "panel_backups", "/backups")]
    [InlineData("panel", "panel_state", "/var/lib/grafana-panel")]
    public void Each_service_keeps_its_data_in_its_named_volume(string service, string volume, string path)
    {
        Assert.True(compose.Model.GetProperty("volumes").TryGetProperty(volume, out _), $"volume {volume} is not declared");
        Assert.Contains(Mounts(service), m => m.Type == "volume" && m.Source == volume && m.Target == path);
    }

    [Fact]
    public void No_lab_volume_is_shared_with_the_portal()
    {
        var portalVolumes = new[] { "panel", "panel-db" }.SelectMany(Mounts).Where(m => m.Type == "volume").Select(m => m.Source);
        var labVolumes = LabServices.SelectMany(Mounts).Where(m => m.Type == "volume").Select(m => m.Source);

        Assert.Empty(portalVolumes.Intersect(labVolumes));
    }

    [Fact]
    public void Configuration_from_deploy_is_mounted_read_only()
    {
        var binds = compose.ServiceNames.SelectMany(s => Mounts(s).Select(m => (Service: s, Mount: m)))
            .Where(x => x.Mount.Type == "bind" && x.Mount.Source.StartsWith(Repo.Deploy, StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(binds);
        Assert.All(binds, x => Assert.True(x.Mount.ReadOnly, $"{x.Service} mounts {x.Mount.Source} writable"));
        Assert.All(binds, x => Assert.True(Directory.Exists(x.Mount.Source) || File.Exists(x.Mount.Source), $"{x.Mount.Source} does not exist"));
    }

    [Fact]
    public void All_services_share_the_monitoring_bridge_network_with_its_subnet()
    {
        var network = compose.Model.GetProperty("networks").GetProperty("monitoring");

        Assert.Equal("bridge", network.GetProperty("driver").GetString());
        Assert.Equal("172.20.0.0/16", network.GetProperty("ipam").GetProperty("config")[0].GetProperty("subnet").GetString());
        Assert.All(compose.ServiceNames, s => Assert.True(compose.Service(s).GetProperty("networks").TryGetProperty("monitoring", out _), s));
    }

    [Fact]
    public void Only_the_user_facing_services_publish_ports_and_no_host_port_is_published_twice()
    {
        var published = compose.ServiceNames
            .Where(s => compose.Service(s).TryGetProperty("ports", out _))
            .SelectMany(s => compose.Service(s).GetProperty("ports").EnumerateArray()
                .Select(p => (Service: s, Host: $"{p.GetProperty("host_ip").GetString()}:{p.GetProperty("published").GetString()}/{p.GetProperty("protocol").GetString()}")))
            .ToList();

        Assert.Equal(new[] { "alertmanager", "cadvisor", "grafana", "influxdb", "loki", "panel", "prometheus", "tempo" },
            published.Select(p => p.Service).Distinct().Order());
        var twice = published.GroupBy(p => p.Host).Where(g => g.Count() > 1).Select(g => $"{g.Key} by {string.Join(", ", g.Select(p => p.Service))}");
        Assert.Empty(twice);
    }

    [Theory]
    [InlineData("grafana", "3000")]
    [InlineData("prometheus", "9090")]
    [InlineData("loki", "3100")]
    [InlineData("tempo", "3200")]
    [InlineData("tempo", "4317")]
    [InlineData("tempo", "4318")]
    [InlineData("influxdb", "8086")]
    [InlineData("alertmanager", "9093")]
    [InlineData("cadvisor", "8080")]
    [InlineData("panel", "8585")]
    public void The_course_ports_are_published_by_default(string service, string port) =>
        Assert.Contains(compose.Service(service).GetProperty("ports").EnumerateArray(),
            p => p.GetProperty("published").GetString() == port && p.GetProperty("target").GetInt32().ToString() == port);

    [Fact]
    public void Every_service_restarts_unless_stopped_and_rotates_its_json_logs()
    {
        foreach (var name in compose.ServiceNames)
        {
            var service = compose.Service(name);
            Assert.Equal("unless-stopped", service.GetProperty("restart").GetString());
            var logging = service.GetProperty("logging");
            Assert.Equal("json-file", logging.GetProperty("driver").GetString());
            Assert.True(logging.GetProperty("options").TryGetProperty("max-size", out _), $"{name} logs are not rotated");
            Assert.True(logging.GetProperty("options").TryGetProperty("max-file", out _), $"{name} logs are not rotated");
        }
    }

    [Theory]
    [InlineData("grafana", "postgres")]
    [InlineData("grafana", "redis")]
    [InlineData("promtail", "loki")]
    [InlineData("tempo", "prometheus")]
    [InlineData("panel", "panel-db")]
    public void A_service_starts_after_what_it_needs_is_healthy(string service, string dependency) =>
        Assert.Equal("service_healthy",
            compose.Service(service).GetProperty("depends_on").GetProperty(dependency).GetProperty("condition").GetString());

    [Fact]
    public void The_portal_and_its_database_are_labelled_so_the_portal_recognises_itself()
    {
        foreach (var name in new[] { "panel", "panel-db" })
        {
            Assert.Equal("portal", compose.Service(name).GetProperty("labels").GetProperty("grafana-panel.role").GetString());
        }
    }

    [Fact]
    public void The_portal_reaches_its_own_database_the_docker_socket_and_grafana()
    {
        var panel = compose.Service("panel");
        var environment = panel.GetProperty("environment");

        Assert.StartsWith("Host=panel-db;", environment.GetProperty("ConnectionStrings__Panel").GetString());
        Assert.Equal("grafana-training", environment.GetProperty("Stack__ProjectName").GetString());
        Assert.Equal("unix:///var/run/docker.sock", environment.GetProperty("Docker__Endpoint").GetString());
        Assert.Equal("http://grafana:3000", environment.GetProperty("Grafana__Url").GetString());
        Assert.Contains(Mounts("panel"), m => m.Type == "bind" && m.Source == "/var/run/docker.sock" && m.Target == "/var/run/docker.sock");
        Assert.Equal("999", panel.GetProperty("group_add")[0].GetString());
    }

    [Fact]
    public void The_portal_reads_the_module_catalog_from_deploy_portal_mounted_read_only()
    {
        var catalog = compose.Service("panel").GetProperty("environment").GetProperty("Modules__CatalogPath").GetString();

        Assert.Equal("/etc/grafana-panel/modules.yaml", catalog);
        Assert.Contains(Mounts("panel"), m => m.Type == "bind" && m.Source == Repo.PathOf("deploy", "portal") && m.Target == "/etc/grafana-panel" && m.ReadOnly);
        Assert.True(File.Exists(Repo.PathOf("deploy", "portal", "modules.yaml")));
    }

    [Fact]
    public void Retention_is_thirty_days_everywhere_by_default()
    {
        var prometheusCommand = compose.Service("prometheus").GetProperty("command").EnumerateArray().Select(e => e.GetString());

        Assert.Contains("--storage.tsdb.retention.time=30d", prometheusCommand);
        Assert.Equal("744h", compose.Service("loki").GetProperty("environment").GetProperty("LOKI_RETENTION").GetString());
        Assert.Equal("720h", compose.Service("tempo").GetProperty("environment").GetProperty("TEMPO_RETENTION").GetString());
        Assert.Equal("30d", compose.Service("influxdb").GetProperty("environment").GetProperty("DOCKER_INFLUXDB_INIT_RETENTION").GetString());
    }

    private sealed record Mount(string Type, string Source, string Target, bool ReadOnly);

    private IEnumerable<Mount> Mounts(string service) =>
        compose.Service(service).TryGetProperty("volumes", out var volumes)
            ? volumes.EnumerateArray().Select(v => new Mount(
                v.GetProperty("type").GetString()!,
                v.GetProperty("source").GetString()!,
                v.GetProperty("target").GetString()!,
                v.TryGetProperty("read_only", out var ro) && ro.GetBoolean()))
            : [];
}
