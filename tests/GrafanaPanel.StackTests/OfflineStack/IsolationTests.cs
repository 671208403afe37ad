using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.OfflineStack;

/// <summary>
/// What a learner on the room's network, or a container on one of the stack's networks, can reach
/// (docs/security.md, "The stack's defences"): networks by need, lab ports on 127.0.0.1, least privilege as the engine applies it,
/// Grafana's read-only InfluxDB token, and no host logs in Loki.
/// </summary>
[Collection(OfflineStackCollection.Name)]
[Trait("Category", "OfflineStack")]
public sealed class IsolationTests(OfflineStackFixture stack)
{
    private const string ProbeImage = "local/offline-base:bookworm";

    /// <summary>(network the probe joins, target service, port, reachable). The portal is left out: its test starts it.</summary>
    public static TheoryData<string, string, int, bool> Matrix() => new()
    {
        // The lab network: the services learners use through Grafana, and none of the databases.
        { "monitoring", "grafana", 3000, true },
        { "monitoring", "prometheus", 9090, true },
        { "monitoring", "loki", 3100, true },
        { "monitoring", "influxdb", 8086, true },
        { "monitoring", "alertmanager", 9093, true },
        { "monitoring", "panel-db", 5432, false },
        { "monitoring", "postgres", 5432, false },
        { "monitoring", "redis", 6379, false },
        // Grafana's databases: Grafana and its PostgreSQL and Redis, not the portal's database nor the lab.
        { "grafana-db", "postgres", 5432, true },
        { "grafana-db", "redis", 6379, true },
        { "grafana-db", "grafana", 3000, true },
        { "grafana-db", "panel-db", 5432, false },
        { "grafana-db", "prometheus", 9090, false },
        // The portal's database network: panel-db and nothing of the lab.
        { "portal-db", "panel-db", 5432, true },
        { "portal-db", "postgres", 5432, false },
        { "portal-db", "redis", 6379, false },
        { "portal-db", "grafana", 3000, false },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task A_container_on_a_network_reaches_exactly_the_services_that_share_it(string network, string service, int port, bool reachable)
    {
        stack.EnsureStarted();
        var addresses = await AddressesAsync(service);
        Assert.NotEmpty(addresses);

        // By name (the network's DNS), and by every address the service has on any network: an address that
        // answers from another network would be a route around the isolation.
        var targets = addresses.Values.Prepend(service).Distinct().ToList();
        var results = await ProbeAsync(network, targets, port);

        if (reachable)
        {
            Assert.True(results[service], $"{service}:{port} does not answer from {network}: {Describe(results)}");
        }
        else
        {
            Assert.True(results.Values.All(open => !open), $"{service}:{port} answers from {network}: {Describe(results)}");
        }
    }

    [Theory]
    [InlineData("loki", 3100, "LOKI_PORT")]
    [InlineData("prometheus", 9090, "PROMETHEUS_PORT")]
    [InlineData("influxdb", 8086, "INFLUXDB_PORT")]
    [InlineData("alertmanager", 9093, "ALERTMANAGER_PORT")]
    [InlineData("cadvisor", 8080, "CADVISOR_PORT")]
    [InlineData("tempo", 3200, "TEMPO_PORT")]
    public async Task A_lab_port_is_published_on_127_0_0_1_only_by_default_and_answers_there(string service, int containerPort, string portVariable)
    {
        stack.EnsureStarted();
        var hostPort = int.Parse(stack.TestEnvironment[portVariable]);

        var port = await OfflineStackFixture.StackScriptAsync("compose.sh", ["port", service, containerPort.ToString()], TimeSpan.FromMinutes(1));
        Assert.True(port.ExitCode == 0, port.Output);
        Assert.Equal($"127.0.0.1:{hostPort}", port.StandardOutput.Trim());

        Assert.True(await OpensAsync(IPAddress.Loopback, hostPort), $"{service} does not answer on 127.0.0.1:{hostPort}");
        // The host's other addresses stand for its address on the room's network: nothing answers there.
        var addresses = HostAddresses();
        Assert.NotEmpty(addresses);
        foreach (var address in addresses)
        {
            Assert.False(await OpensAsync(address, hostPort), $"{service}'s port {hostPort} answers on {address}, not only on 127.0.0.1");
        }
    }

    [Fact]
    public async Task Every_container_runs_without_capabilities_it_was_not_given_read_only_and_unprivileged()
    {
        stack.EnsureStarted();

        foreach (var service in stack.LabServices)
        {
            var host = (await InspectAsync(service)).GetProperty("HostConfig");
            Assert.False(host.GetProperty("Privileged").GetBoolean(), $"{service} is privileged");
            Assert.True(host.GetProperty("ReadonlyRootfs").GetBoolean(), $"{service} has a writable root file system");
            Assert.Equal(["ALL"], host.GetProperty("CapDrop").EnumerateArray().Select(c => c.GetString()));
            Assert.Contains(host.GetProperty("SecurityOpt").EnumerateArray(), o => o.GetString() is "no-new-privileges:true" or "no-new-privileges");
        }
    }

    [Fact]
    public async Task Every_service_starts_again_after_a_restart_of_its_container_with_its_read_only_root_and_tmpfs()
    {
        stack.EnsureStarted();
        // A restart keeps the container, so its tmpfs mount points are now directories of its root file system
        // (restart: unless-stopped does the same after a reboot).
        var restart = await OfflineStackFixture.StackScriptAsync("compose.sh", ["restart", .. stack.LabServices], TimeSpan.FromMinutes(5));
        Assert.True(restart.ExitCode == 0, restart.Output);

        await Eventually.HoldsAsync("every service healthy after the restart", async () =>
        {
            var ps = await OfflineStackFixture.StackScriptAsync("compose.sh", ["ps", "--all", "--format", "{{.Service}} {{.State}} {{.Health}}"], TimeSpan.FromMinutes(1));
            var lines = ps.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(l => stack.LabServices.Contains(l.Split(' ')[0])).ToList();
            return (lines.Count == stack.LabServices.Count && lines.All(l => l.EndsWith(" running healthy", StringComparison.Ordinal)), string.Join("; ", lines));
        }, TimeSpan.FromMinutes(4));
    }

    [Fact]
    public async Task Grafana_s_InfluxDB_token_reads_the_training_bucket_and_cannot_write_while_the_operator_token_can()
    {
        stack.EnsureStarted();
        var read = await Tool.RunAsync("docker",
            ["run", "--rm", "--network", "none", "-v", $"{stack.ProjectName}_influxdb_grafana_token:/t:ro", ProbeImage, "cat", "/t/grafana-token"],
            TimeSpan.FromMinutes(1));
        Assert.True(read.ExitCode == 0, read.Output);
        var token = read.StandardOutput.Trim();
        Assert.NotEqual("", token);
        Assert.NotEqual(stack.TestEnvironment["INFLUXDB_ADMIN_TOKEN"], token);

        using (var buckets = await InfluxAsync(HttpMethod.Get, "/api/v2/buckets?name=training", token, null))
        {
            Assert.Equal(HttpStatusCode.OK, buckets.StatusCode);
            using var body = JsonDocument.Parse(await buckets.Content.ReadAsStringAsync());
            Assert.Single(body.RootElement.GetProperty("buckets").EnumerateArray());
        }

        const string line = "isolation,test=grafana value=1";
        using (var write = await InfluxAsync(HttpMethod.Post, "/api/v2/write?org=data2ai&bucket=training", token, line))
        {
            Assert.True(write.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized or HttpStatusCode.NotFound,
                $"a write with Grafana's token answered {(int)write.StatusCode}");
        }

        using var operatorWrite = await InfluxAsync(HttpMethod.Post, "/api/v2/write?org=data2ai&bucket=training", stack.TestEnvironment["INFLUXDB_ADMIN_TOKEN"], line);
        Assert.Equal(HttpStatusCode.NoContent, operatorWrite.StatusCode);
    }

    [Fact]
    public async Task Alloy_ships_container_logs_only_nothing_from_the_hosts_var_log()
    {
        stack.EnsureStarted();
        var mounts = (await InspectAsync("alloy")).GetProperty("Mounts").EnumerateArray().Select(m => m.GetProperty("Source").GetString()!).ToList();
        Assert.DoesNotContain(mounts, m => m.StartsWith("/var/log", StringComparison.Ordinal));

        // Once container logs arrive, the only job in Loki is the containers' one.
        await Eventually.HoldsAsync("container logs in Loki", async () =>
        {
            var jobs = (await stack.GetJsonAsync(stack.Url("LOKI_PORT", "/loki/api/v1/label/job/values")))
                .GetProperty("data").EnumerateArray().Select(v => v.GetString()).ToList();
            return (jobs.Contains("docker"), string.Join(", ", jobs));
        }, TimeSpan.FromMinutes(2));
        var all = (await stack.GetJsonAsync(stack.Url("LOKI_PORT", "/loki/api/v1/label/job/values")))
            .GetProperty("data").EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.Equal(["docker"], all);
    }

    private async Task<HttpResponseMessage> InfluxAsync(HttpMethod method, string path, string token, string? body)
    {
        using var request = new HttpRequestMessage(method, stack.Url("INFLUXDB_PORT", path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "text/plain");
        }

        return await stack.Http.SendAsync(request);
    }

    /// <summary>From a throwaway container on the project's <paramref name="network"/>: does each target accept a TCP connection on the port?</summary>
    private async Task<Dictionary<string, bool>> ProbeAsync(string network, IReadOnlyList<string> targets, int port)
    {
        var script = string.Join("; ", targets.Select(t =>
            $"if timeout 2 bash -c '</dev/tcp/{t}/{port}' 2>/dev/null; then echo 'open {t}'; else echo 'closed {t}'; fi"));
        var result = await Tool.RunAsync("docker",
            ["run", "--rm", "--network", $"{stack.ProjectName}_{network}", ProbeImage, "bash", "-c", script],
            TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.Output);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var found = lines.Select(l => l.Split(' ', 2)).ToDictionary(p => p[1], p => p[0] == "open");
        Assert.Equal(targets.Order(), found.Keys.Order());
        return found;
    }

    private static string Describe(Dictionary<string, bool> results) =>
        string.Join(", ", results.Select(r => $"{r.Key} {(r.Value ? "open" : "closed")}"));

    /// <summary>The service's container addresses by network.</summary>
    private async Task<Dictionary<string, string>> AddressesAsync(string service) =>
        (await InspectAsync(service)).GetProperty("NetworkSettings").GetProperty("Networks").EnumerateObject()
            .Where(n => n.Value.GetProperty("IPAddress").GetString() is { Length: > 0 })
            .ToDictionary(n => n.Name, n => n.Value.GetProperty("IPAddress").GetString()!);

    /// <summary>This host's IPv4 addresses other than loopback (its interfaces on the room's network and Docker's bridges).</summary>
    private static List<IPAddress> HostAddresses() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            .ToList();

    private async Task<JsonElement> InspectAsync(string service)
    {
        var id = await OfflineStackFixture.StackScriptAsync("compose.sh", ["ps", "--quiet", service], TimeSpan.FromMinutes(1));
        Assert.True(id.ExitCode == 0 && id.StandardOutput.Trim().Length > 0, $"no container for {service}: {id.Output}");
        var inspect = await Tool.RunAsync("docker", ["inspect", id.StandardOutput.Trim()], TimeSpan.FromMinutes(1));
        Assert.True(inspect.ExitCode == 0, inspect.Output);
        using var document = JsonDocument.Parse(inspect.StandardOutput);
        return document.RootElement[0].Clone();
    }

    private static async Task<bool> OpensAsync(IPAddress address, int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(address, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
