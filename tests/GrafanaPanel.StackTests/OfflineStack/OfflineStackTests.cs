using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.OfflineStack;

/// <summary>The real docker-compose.yml, started with the offline image set, works as a stack.</summary>
[Collection(OfflineStackCollection.Name)]
[Trait("Category", "OfflineStack")]
public sealed class OfflineStackTests(OfflineStackFixture stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Every_started_service_is_running_and_healthy()
    {
        stack.EnsureStarted();
        var containers = await ContainersAsync();

        foreach (var service in stack.LabServices)
        {
            Assert.True(containers.TryGetValue(service, out var container), $"no container for {service}");
            Assert.Equal("running", container.GetProperty("State").GetString());
            Assert.True(container.GetProperty("Health").GetString() == "healthy", $"{service} is {container.GetProperty("Health").GetString()}");
        }
    }

    [Fact]
    public async Task Prometheus_reports_every_lab_target_up()
    {
        stack.EnsureStarted();
        // prometheus, node-exporter and alertmanager are the real programs; the others are stand-ins.
        var everyLabJob = new[] { "prometheus", "grafana", "node-exporter", "cadvisor", "alertmanager", "loki", "tempo", "alloy" };

        await Eventually.HoldsAsync("every lab target up in Prometheus", async () =>
        {
            var targets = (await stack.GetJsonAsync(stack.Url("PROMETHEUS_PORT", "/api/v1/targets")))
                .GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Select(t => (Job: t.GetProperty("labels").GetProperty("job").GetString()!, Health: t.GetProperty("health").GetString()))
                .ToList();
            var up = targets.Where(t => t.Health == "up").Select(t => t.Job).ToHashSet();
            return (everyLabJob.All(up.Contains), string.Join(", ", targets.Select(t => $"{t.Job}={t.Health}")));
        }, Deadline);
    }

    [Fact]
    public async Task Prometheus_loads_every_alert_rule_of_deploy()
    {
        stack.EnsureStarted();
        var expected = Directory.GetFiles(Repo.PathOf("deploy", "prometheus", "rules"), "*.yml")
            .SelectMany(file => Yaml.Load(file).Items("groups").SelectMany(g => g.Items("rules")).Select(r => r.Text("alert")))
            .ToHashSet();

        var rules = await stack.GetJsonAsync(stack.Url("PROMETHEUS_PORT", "/api/v1/rules?type=alert"));
        var loaded = rules.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => (Name: r.GetProperty("name").GetString(), Health: r.GetProperty("health").GetString()))
            .ToList();

        Assert.Equal(expected.Order(), loaded.Select(r => r.Name).Order());
        Assert.Contains("GrafanaPanelBackupStale", expected);
    }

    [Fact]
    public async Task Prometheus_sends_alerts_to_alertmanager()
    {
        stack.EnsureStarted();

        await Eventually.HoldsAsync("Alertmanager discovered by Prometheus", async () =>
        {
            var active = (await stack.GetJsonAsync(stack.Url("PROMETHEUS_PORT", "/api/v1/alertmanagers")))
                .GetProperty("data").GetProperty("activeAlertmanagers").EnumerateArray()
                .Select(a => a.GetProperty("url").GetString()).ToList();
            return (active.Contains("http://alertmanager:9093/api/v2/alerts"), string.Join(", ", active));
        }, Deadline);
    }

    [Fact]
    public async Task Grafana_reaches_its_database_and_serves_every_provisioned_dashboard_and_data_source()
    {
        stack.EnsureStarted();
        var health = await stack.GetJsonAsync(stack.Url("GRAFANA_PORT", "/api/health"));
        Assert.Equal("ok", health.GetProperty("database").GetString());

        var dashboards = Directory.GetFiles(Repo.PathOf("deploy", "grafana", "dashboards"), "*.json", SearchOption.AllDirectories);
        foreach (var file in dashboards)
        {
            using var model = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            var uid = model.RootElement.GetProperty("uid").GetString();
            using var response = await GrafanaGetAsync($"/api/dashboards/uid/{uid}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"dashboard {uid}: {response.StatusCode}");
        }

        foreach (var uid in new[] { "prometheus", "loki", "tempo", "influxdb" })
        {
            using var response = await GrafanaGetAsync($"/api/datasources/uid/{uid}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"data source {uid}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task Container_logs_reach_Loki_through_Alloy_labelled_by_compose_service()
    {
        stack.EnsureStarted();

        await Eventually.HoldsAsync("logs of the prometheus service in Loki", async () =>
        {
            var values = (await stack.GetJsonAsync(stack.Url("LOKI_PORT", "/loki/api/v1/label/service/values")))
                .GetProperty("data").EnumerateArray().Select(v => v.GetString()).ToList();
            return (values.Contains("prometheus"), string.Join(", ", values));
        }, Deadline);

        // The other labels Promtail used to set, which the dashboards and the course rely on.
        var labels = (await stack.GetJsonAsync(stack.Url("LOKI_PORT", "/loki/api/v1/labels")))
            .GetProperty("data").EnumerateArray().Select(v => v.GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "service", "container", "stream", "compose_project", "job" }, labels);
        var projects = (await stack.GetJsonAsync(stack.Url("LOKI_PORT", "/loki/api/v1/label/compose_project/values")))
            .GetProperty("data").EnumerateArray().Select(v => v.GetString());
        Assert.Contains(stack.ProjectName, projects);
    }

    [Fact]
    public async Task InfluxDB_was_set_up_with_the_training_bucket_for_thirty_days()
    {
        stack.EnsureStarted();
        using var request = new HttpRequestMessage(HttpMethod.Get, stack.Url("INFLUXDB_PORT", "/api/v2/buckets?name=training"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", stack.TestEnvironment["INFLUXDB_ADMIN_TOKEN"]);

        using var response = await stack.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var bucket = Assert.Single(body.RootElement.GetProperty("buckets").EnumerateArray());
        Assert.Equal(30 * 24 * 3600, bucket.GetProperty("retentionRules")[0].GetProperty("everySeconds").GetInt32());
    }

    [Fact]
    public async Task Tempo_accepts_OTLP_traces_on_the_published_port()
    {
        stack.EnsureStarted();
        var traceId = Guid.NewGuid().ToString("N");
        var span = JsonSerializer.Serialize(new
        {
            resourceSpans = new[]
            {
                new
                {
                    resource = new { attributes = new[] { new { key = "service.name", value = new { stringValue = "stack-tests" } } } },
                    scopeSpans = new[]
                    {
                        new
                        {
                            spans = new[]
                            {
                                new
                                {
                                    traceId, spanId = "0123456789abcdef", name = "probe",
                                    startTimeUnixNano = "1700000000000000000", endTimeUnixNano = "1700000000100000000",
                                },
                            },
                        },
                    },
                },
            },
        });

        using var content = new StringContent(span, Encoding.UTF8, "application/json");
        using var sent = await stack.Http.PostAsync(stack.Url("TEMPO_OTLP_HTTP_PORT", "/v1/traces"), content);
        sent.EnsureSuccessStatusCode();

        using var found = await stack.Http.GetAsync(stack.Url("TEMPO_PORT", $"/api/traces/{traceId}"));
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
    }

    [Theory]
    [InlineData("grafana_data")]
    [InlineData("prometheus_data")]
    [InlineData("loki_data")]
    [InlineData("tempo_data")]
    [InlineData("influxdb_data")]
    [InlineData("influxdb_config")]
    [InlineData("postgres_data")]
    [InlineData("redis_data")]
    [InlineData("alloy_data")]
    [InlineData("panel_data")]
    public async Task A_service_writes_its_data_into_its_named_volume(string volume)
    {
        stack.EnsureStarted();

        // alertmanager_data is left out: Alertmanager writes it on its 15-minute maintenance or on shutdown.
        await VolumeHasDataAsync(volume);
    }

    [Fact]
    public async Task The_portal_writes_its_state_into_panel_state()
    {
        // The portal's container is started by whichever test needs it first (the collection's order is not fixed).
        await stack.StartPortalAsync();

        await VolumeHasDataAsync("panel_state");
    }

    private async Task VolumeHasDataAsync(string volume)
    {
        await Eventually.HoldsAsync($"data in {volume}", async () =>
        {
            var listing = await Tool.RunAsync("docker",
                ["run", "--rm", "--network", "none", "-v", $"{stack.ProjectName}_{volume}:/volume:ro", "local/offline-base:bookworm", "ls", "-A", "/volume"],
                TimeSpan.FromMinutes(1));
            return (listing.ExitCode == 0 && listing.StandardOutput.Trim().Length > 0, listing.Output);
        }, Deadline);
    }

    private async Task<HttpResponseMessage> GrafanaGetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, stack.Url("GRAFANA_PORT", path));
        var credentials = $"{stack.TestEnvironment["GRAFANA_ADMIN_USER"]}:{stack.TestEnvironment["GRAFANA_ADMIN_PASSWORD"]}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return await stack.Http.SendAsync(request);
    }

    /// <summary>The project's containers by compose service (<c>docker compose ps</c>).</summary>
    private async Task<Dictionary<string, JsonElement>> ContainersAsync()
    {
        var ps = await OfflineStackFixture.StackScriptAsync("compose.sh", ["ps", "--all", "--format", "json"], TimeSpan.FromMinutes(1));
        Assert.True(ps.ExitCode == 0, ps.Output);
        var text = ps.StandardOutput.Trim();
        // Compose prints one JSON object per line (2.21+) or one array (older 2.x).
        var containers = text.StartsWith('[')
            ? JsonDocument.Parse(text).RootElement.EnumerateArray().Select(e => e.Clone()).ToList()
            : text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
        return containers.ToDictionary(c => c.GetProperty("Service").GetString()!);
    }
}
