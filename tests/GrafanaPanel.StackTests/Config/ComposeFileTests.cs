using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

public sealed class ComposeFileTests(ResolvedComposeFixture compose) : IClassFixture<ResolvedComposeFixture>
{
    public static readonly string[] LabServices =
        ["grafana", "prometheus", "loki", "tempo", "influxdb", "postgres", "redis", "alertmanager", "node-exporter", "cadvisor", "alloy"];

    [Fact]
    public async Task Config_is_valid_with_the_example_env_file_once_its_secrets_are_filled_in()
    {
        var envFile = Compose.ExampleWithTestSecrets().WriteTemporary();
        try
        {
            var result = await Compose.RunAsync(envFile, "config", "--quiet");

            Assert.True(result.ExitCode == 0, result.Output);
        }
        finally
        {
            File.Delete(envFile);
        }
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
    [InlineData("alloy", "alloy_data", "/var/lib/alloy/data")]
    [InlineData("influxdb", "influxdb_grafana_token", "/home/influxdb")]
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
    public void The_monitoring_lab_network_is_a_bridge_with_its_subnet()
    {
        var network = compose.Model.GetProperty("networks").GetProperty("monitoring");

        Assert.Equal("bridge", network.GetProperty("driver").GetString());
        Assert.Equal("172.20.0.0/16", network.GetProperty("ipam").GetProperty("config")[0].GetProperty("subnet").GetString());
    }

    // Networks by need (docs/security.md): who shares a network with whom.
    [Theory]
    [InlineData("monitoring", new[] { "alertmanager", "cadvisor", "grafana", "influxdb", "loki", "node-exporter", "panel", "prometheus", "alloy", "tempo" })]
    [InlineData("grafana-db", new[] { "grafana", "panel", "postgres", "redis" })]
    [InlineData("portal-db", new[] { "panel", "panel-db" })]
    public void Each_network_has_exactly_the_services_that_need_it(string network, string[] members) =>
        Assert.Equal(members.Order(), compose.ServiceNames.Where(s => NetworksOf(s).Contains(network)).Order());

    [Fact]
    public void The_stack_has_exactly_the_three_networks_and_the_database_networks_are_internal()
    {
        var networks = compose.Model.GetProperty("networks");

        Assert.Equal(new[] { "grafana-db", "monitoring", "portal-db" }, networks.EnumerateObject().Select(n => n.Name).Order());
        foreach (var name in new[] { "grafana-db", "portal-db" })
        {
            Assert.True(networks.GetProperty(name).TryGetProperty("internal", out var value) && value.GetBoolean(), $"{name} is not internal");
        }
    }

    [Fact]
    public void The_portal_database_shares_no_network_with_any_lab_service()
    {
        var portalDbNetworks = NetworksOf("panel-db").ToHashSet();

        Assert.All(LabServices, s => Assert.Empty(NetworksOf(s).Intersect(portalDbNetworks)));
    }

    private IEnumerable<string> NetworksOf(string service) =>
        compose.Service(service).TryGetProperty("networks", out var networks) ? networks.EnumerateObject().Select(n => n.Name) : [];

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

    // Published by need: only Grafana and the portal face the room by default; LAB_BIND_ADDRESS opens the rest.
    [Theory]
    [InlineData("grafana", "3000", "0.0.0.0")]
    [InlineData("panel", "8585", "0.0.0.0")]
    [InlineData("prometheus", "9090", "127.0.0.1")]
    [InlineData("loki", "3100", "127.0.0.1")]
    [InlineData("tempo", "3200", "127.0.0.1")]
    [InlineData("tempo", "4317", "127.0.0.1")]
    [InlineData("tempo", "4318", "127.0.0.1")]
    [InlineData("influxdb", "8086", "127.0.0.1")]
    [InlineData("alertmanager", "9093", "127.0.0.1")]
    [InlineData("cadvisor", "8080", "127.0.0.1")]
    public void Each_published_port_binds_to_its_documented_address_by_default(string service, string port, string hostIp) =>
        Assert.Equal(hostIp, compose.Service(service).GetProperty("ports").EnumerateArray()
            .Single(p => p.GetProperty("published").GetString() == port).GetProperty("host_ip").GetString());

    [Fact]
    public async Task LAB_BIND_ADDRESS_opens_every_lab_port_and_leaves_grafana_and_the_portal_alone()
    {
        var envFile = Compose.ExampleWithTestSecrets().With("LAB_BIND_ADDRESS", "192.0.2.7").With("STACK_BIND_ADDRESS", "198.51.100.9").WriteTemporary();
        try
        {
            var result = await Compose.RunAsync(envFile, "config", "--format", "json");
            Assert.True(result.ExitCode == 0, result.Output);
            using var model = System.Text.Json.JsonDocument.Parse(result.StandardOutput);
            var bindings = model.RootElement.GetProperty("services").EnumerateObject()
                .Where(s => s.Value.TryGetProperty("ports", out _))
                .SelectMany(s => s.Value.GetProperty("ports").EnumerateArray().Select(p => (Service: s.Name, HostIp: p.GetProperty("host_ip").GetString())))
                .ToList();

            Assert.All(bindings, b => Assert.Equal(b.Service is "grafana" or "panel" ? "198.51.100.9" : "192.0.2.7", b.HostIp));
        }
        finally
        {
            File.Delete(envFile);
        }
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
    [InlineData("alloy", "loki")]
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

    /// <summary>
    /// Least privilege (docs/security.md): who each service runs as, and the capabilities it gets back after
    /// dropping all. A service missing here fails the tests below: add it with its reasons.
    /// </summary>
    private static readonly Dictionary<string, (string? User, string[] Capabilities)> Privileges = new()
    {
        ["grafana"] = (null, []),            // the image's user 472
        ["prometheus"] = (null, []),         // nobody
        ["loki"] = (null, []),               // 10001
        ["tempo"] = (null, []),              // 10001
        ["influxdb"] = ("1000:1000", []),    // the image's influxdb user: the entrypoint needs no chown or su
        ["postgres"] = ("postgres", []),     // likewise
        ["redis"] = ("redis", []),           // likewise
        ["alertmanager"] = (null, []),       // nobody
        ["node-exporter"] = (null, []),      // nobody
        ["cadvisor"] = (null, ["DAC_READ_SEARCH", "SYSLOG"]), // root: reads the socket and Docker's files; see the compose file
        ["alloy"] = ("473:473", []),         // the image's alloy user, with the socket's group (reads logs through it)
        ["panel"] = (null, []),              // the image's app user, with the socket's group
        ["panel-db"] = ("postgres", []),
    };

    [Fact]
    public void Every_service_drops_every_capability_gains_no_privileges_and_runs_on_a_read_only_root_file_system()
    {
        foreach (var name in compose.ServiceNames)
        {
            var service = compose.Service(name);
            Assert.True(Privileges.ContainsKey(name), $"{name} is not in the privilege table of this test: add it, with the user it runs as and its capabilities");
            Assert.Contains("no-new-privileges:true", Strings(service, "security_opt"));
            Assert.Equal(["ALL"], Strings(service, "cap_drop"));
            Assert.Equal(Privileges[name].Capabilities.Order(), Strings(service, "cap_add").Order());
            Assert.True(service.TryGetProperty("read_only", out var readOnly) && readOnly.GetBoolean(), $"{name} has a writable root file system");
            Assert.False(service.TryGetProperty("privileged", out var privileged) && privileged.GetBoolean(), $"{name} is privileged");
            Assert.Contains("/tmp", Strings(service, "tmpfs").Select(t => t.Split(':')[0]));
        }
    }

    [Fact]
    public void Services_whose_image_starts_as_root_run_as_its_unprivileged_user()
    {
        foreach (var (name, (user, _)) in Privileges.Where(p => p.Value.User is not null))
        {
            Assert.Equal(user, compose.Service(name).GetProperty("user").GetString());
        }
    }

    [Fact]
    public void Only_the_portal_may_write_to_the_docker_socket_and_only_alloy_and_cadvisor_read_it()
    {
        var socketMounts = compose.ServiceNames
            .SelectMany(s => Mounts(s).Where(m => m.Source is "/var/run/docker.sock" or "/var/run").Select(m => (Service: s, Mount: m)))
            .ToList();

        Assert.Equal(new[] { "alloy", "cadvisor", "panel" }, socketMounts.Select(x => x.Service).Order());
        Assert.All(socketMounts.Where(x => x.Service != "panel"), x => Assert.True(x.Mount.ReadOnly, $"{x.Service} mounts {x.Mount.Source} writable"));
    }

    [Fact]
    public void Nothing_mounts_the_hosts_var_log()
    {
        var logMounts = compose.ServiceNames.SelectMany(s => Mounts(s).Where(m => m.Source.StartsWith("/var/log", StringComparison.Ordinal)).Select(m => $"{s}: {m.Source}"));

        Assert.Empty(logMounts);
    }

    [Fact]
    public void Prometheus_gets_the_portal_s_metrics_token_and_the_portal_requires_it()
    {
        var prometheus = compose.Service("prometheus");
        var panel = compose.Service("panel");
        var token = panel.GetProperty("environment").GetProperty("Metrics__BearerToken").GetString();

        Assert.Equal("test-panel-metrics-token", token);
        Assert.Equal(token, prometheus.GetProperty("environment").GetProperty("PANEL_METRICS_TOKEN").GetString());
        // The entrypoint writes it where deploy/prometheus/prometheus.yml reads it, on a tmpfs.
        Assert.Contains("/run/prometheus/panel-metrics-token", string.Join(' ', Strings(prometheus, "entrypoint")));
        Assert.Contains("/run/prometheus", Strings(prometheus, "tmpfs").Select(t => t.Split(':')[0]));
    }

    private static IEnumerable<string> Strings(JsonElement service, string key) =>
        service.TryGetProperty(key, out var values) ? values.EnumerateArray().Select(v => v.GetString()!) : [];

    private IEnumerable<ComposeMount> Mounts(string service) => compose.Mounts(service);
}
