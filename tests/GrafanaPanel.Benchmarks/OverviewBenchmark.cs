namespace GrafanaPanel.Benchmarks;

/// <summary>
/// Issue 4's benchmark: fetching the overview from the portal (served from its in-memory snapshot) next to
/// `docker ps -a` and `docker system df -v`, on the offline stack and on 200 labelled containers with 100 volumes.
/// </summary>
public static class OverviewBenchmark
{
    private const string SyntheticProject = "gp-bench-overview";
    private const string Image = "local/gp-bench-busybox:1";

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var rows = new List<(string Scenario, int Services, TimeSpan Portal, TimeSpan Ps, TimeSpan Df)>();
        if (options.OfflineProject is { } offline)
        {
            var services = (await Measure.RunAsync("docker", "ps", "-a", "--filter", $"label=com.docker.compose.project={offline}",
                "--format", "{{.Label \"com.docker.compose.service\"}}")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct().Count();
            if (services == 0)
            {
                throw new InvalidOperationException($"No container of the compose project {offline} exists: start it with tests/stack/up.sh.");
            }

            rows.Add(await ScenarioAsync(options, $"offline stack ({offline})", offline, services));
        }

        await CreateSyntheticAsync();
        try
        {
            rows.Add(await ScenarioAsync(options, "200 containers, 100 volumes", SyntheticProject, expectedServices: 200));
        }
        finally
        {
            await RemoveSyntheticAsync();
        }

        Console.WriteLine();
        Console.WriteLine($"{"scenario",-40} {"services",8} {"portal",10} {"ps -a",10} {"df -v",10} {"portal/ps",10} {"portal/df",10}");
        foreach (var (scenario, services, portal, ps, df) in rows)
        {
            Console.WriteLine($"{scenario,-40} {services,8} {Ms(portal),10} {Ms(ps),10} {Ms(df),10} {portal / ps,10:0.000} {portal / df,10:0.000}");
        }

        var met = rows.All(r => r.Portal < r.Ps);
        Console.WriteLine(met
            ? "goal met: the overview costs less than `docker ps -a` alone at every size"
            : "goal NOT met: the overview costs more than `docker ps -a` somewhere");
        return 0;
    }

    private static async Task<(string, int, TimeSpan, TimeSpan, TimeSpan)> ScenarioAsync(BenchOptions options, string name, string project, int expectedServices)
    {
        Console.WriteLine($"== {name}");
        await using var portal = await PortalProcess.StartAsync(options, project);
        await portal.WaitForServicesAsync(expectedServices, TimeSpan.FromMinutes(2));
        var services = System.Text.Json.JsonDocument.Parse(await portal.Client.GetStringAsync("/api/stack")).RootElement.GetProperty("total").GetInt32();
        var portalTime = await Measure.MedianAsync(options.Iterations, async () => await portal.Client.GetStringAsync("/api/stack"));
        var psTime = await Measure.MedianAsync(options.Iterations, () => Measure.RunAsync("docker", "ps", "-a"));
        var dfTime = await Measure.MedianAsync(Math.Max(3, options.Iterations / 5), () => Measure.RunAsync("docker", "system", "df", "-v"));
        return (name, services, portalTime, psTime, dfTime);
    }

    /// <summary>200 running containers, one compose service each, sharing 100 volumes with a little data.</summary>
    private static async Task CreateSyntheticAsync()
    {
        Console.WriteLine("creating 200 labelled containers and 100 volumes…");
        await Measure.RunAsync("docker", "image", "inspect", Image);
        var creates = Enumerable.Range(0, 200).Select(async i =>
        {
            var volume = $"{SyntheticProject}_data{i % 100}";
            await Measure.RunAsync("docker", "run", "-d", "--name", $"{SyntheticProject}-svc{i}-1",
                "--label", $"com.docker.compose.project={SyntheticProject}",
                "--label", $"com.docker.compose.service=svc{i}",
                "--label", "grafana-panel.bench=1",
                "-v", $"{volume}:/data", Image, "sh", "-c", "echo data > /data/f$$; exec sleep 3600");
        });
        foreach (var chunk in creates.Chunk(20))
        {
            await Task.WhenAll(chunk);
        }
    }

    private static async Task RemoveSyntheticAsync()
    {
        var ids = (await Measure.RunAsync("docker", "ps", "-aq", "--filter", "label=grafana-panel.bench=1"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length > 0)
        {
            await Measure.RunAsync("docker", ["rm", "-f", "-v", .. ids]);
        }

        var volumes = (await Measure.RunAsync("docker", "volume", "ls", "-q", "--filter", $"name={SyntheticProject}_"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (volumes.Length > 0)
        {
            await Measure.RunAsync("docker", ["volume", "rm", .. volumes]);
        }
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:0.0} ms";
}
