using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Benchmarks;

/// <summary>
/// Issue 6's benchmark: on the offline stack (lab services only, started by scripts/bench.sh) with the same seeded data,
/// the portal's whole-stack reset to a baseline (the real portal hosted in this process, asked through
/// <c>POST /api/resets</c> by a signed-in Instructor) next to the common recipe: <c>docker compose down -v</c>,
/// <c>docker compose up --no-start</c>, restoring every lab volume from a busybox <c>tar czf</c> archive, then
/// <c>docker compose up -d --wait</c>. Both start from a scribbled lab and end with every service healthy and every
/// volume holding the baseline (checked after each). Prints medians over the rounds, the ratio and PASS/MISS.
/// </summary>
public static class ResetBenchmark
{
    private const string Image = "local/gp-bench-busybox:1";
    private const string Seed = "gp-bench-seed";

    public static async Task<int> RunAsync(BenchOptions options, string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var rounds = int.Parse(Value("--rounds") ?? "3");
        var megabytes = int.Parse(Value("--megabytes") ?? "8");
        var grace = int.Parse(Value("--stop-grace") ?? "10");
        var withSafety = args.Contains("--safety-backup");
        var project = options.OfflineProject
            ?? throw new InvalidOperationException("--offline-project is not set: run scripts/bench.sh reset, which starts the offline stack.");
        var stack = await LabStack.ReadAsync(project);
        var work = Directory.CreateTempSubdirectory("gp-bench-reset-").FullName;
        var backups = Path.Combine(work, "backups");
        var tarballs = Path.Combine(work, "tarballs");
        Directory.CreateDirectory(backups);
        Directory.CreateDirectory(tarballs);
        try
        {
            Console.WriteLine($"== reset benchmark on {project}: {stack.Services.Count} lab services ({string.Join(", ", stack.Services)}), " +
                $"{stack.Volumes.Count} volumes, {rounds} round(s), stop grace {grace} s for both (10 s: both defaults)");

            await stack.WaitForPrometheusDataAsync();
            await stack.InVolumesAsync(SeedScript(megabytes));
            Console.WriteLine($"seeded {megabytes} MB in each lab volume; volumes now hold {await stack.TotalMegabytesAsync():0} MB");

            await using var portal = await PortalHost.StartAsync(options.Postgres, new Dictionary<string, string>
            {
                ["Stack:ProjectName"] = project,
                ["Backups:Directory"] = backups,
                ["Backups:HelperImage"] = Image,
                ["Resets:StopGracePeriod"] = TimeSpan.FromSeconds(grace).ToString("c"),
            });
            await stack.WaitForSnapshotAsync(portal.Snapshot);

            // The same bytes for both: the stack is stopped while the portal captures its baseline and the recipe's
            // archives are made, then started again. Neither capture is timed.
            await stack.ComposeAsync("stop", "--timeout", grace.ToString());
            var baseline = await CaptureBaselineAsync(portal);
            foreach (var volume in stack.Volumes)
            {
                await Measure.RunAsync("docker", "run", "--rm", "--network", "none", "-v", $"{volume}:/data", "-v", $"{tarballs}:/backup", Image,
                    "tar", "czf", $"/backup/{volume}.tar.gz", "-C", "/data", ".");
            }

            var expected = await stack.FingerprintAsync();
            await stack.UpAsync();
            Console.WriteLine($"baseline \"{baseline.Name}\": {Mb(baseline.Set!.Volumes.Sum(v => v.CompressedBytes))} zstd; " +
                $"recipe archives: {Mb(Directory.GetFiles(tarballs).Sum(f => new FileInfo(f).Length))} tar.gz");

            var results = new List<Round>();
            for (var round = 1; round <= rounds; round++)
            {
                // Alternate the order so that neither side always runs on a stack just started by the other.
                var portalFirst = round % 2 == 1;
                TimeSpan? portalTime = null, safetyTime = null, recipeTime = null;
                string portalSteps = "", safetySteps = "", recipeSteps = "";
                for (var turn = 0; turn < 2; turn++)
                {
                    if ((turn == 0) == portalFirst)
                    {
                        (portalTime, portalSteps) = await PortalResetAsync(portal, stack, baseline.Name, safetyBackup: false, expected);
                        if (withSafety)
                        {
                            (safetyTime, safetySteps) = await PortalResetAsync(portal, stack, baseline.Name, safetyBackup: true, expected);
                        }
                    }
                    else
                    {
                        (recipeTime, recipeSteps) = await RecipeAsync(stack, tarballs, grace, expected);
                    }
                }

                Console.WriteLine($"round {round}: portal {S(portalTime!.Value)} ({portalSteps})");
                if (safetyTime is { } st)
                {
                    Console.WriteLine($"         portal with safety backup {S(st)} ({safetySteps})");
                }

                Console.WriteLine($"         recipe {S(recipeTime!.Value)} ({recipeSteps})");
                results.Add(new Round(portalTime.Value, safetyTime, recipeTime.Value));
            }

            var recipe = Median(results.Select(r => r.Recipe));
            var rows = new List<(string What, TimeSpan Time)> { ("portal reset", Median(results.Select(r => r.Portal))) };
            if (withSafety)
            {
                rows.Add(("portal reset + safety backup", Median(results.Select(r => r.PortalWithSafety!.Value))));
            }

            Console.WriteLine();
            Console.WriteLine($"median of {rounds}: recipe (down -v, up --no-start, busybox tar xzf, up -d --wait) {S(recipe)}");
            Console.WriteLine($"{"",-30} {"median",9} {"/ recipe",9}  goal < 1.0");
            foreach (var (what, time) in rows)
            {
                var ratio = time / recipe;
                Console.WriteLine($"{what,-30} {S(time),9} {ratio,9:0.00}  {(ratio < 1.0 ? "PASS" : "MISS")}");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed record Round(TimeSpan Portal, TimeSpan? PortalWithSafety, TimeSpan Recipe);

    /// <summary>
    /// Whole-stack reset through <c>POST /api/resets</c> (as a script asks for it; the dialog calls the same service),
    /// timed from the request until <c>GET /api/resets/{id}</c> says it succeeded (every service healthy).
    /// </summary>
    private static async Task<(TimeSpan, string)> PortalResetAsync(PortalHost portal, LabStack stack, string baseline, bool safetyBackup, string expected)
    {
        await stack.WaitForSnapshotAsync(portal.Snapshot);
        await stack.InVolumesAsync(ScribbleScript);
        var watch = Stopwatch.StartNew();
        using var response = await portal.Client.PostAsJsonAsync("/api/resets",
            new { baseline, services = Array.Empty<string>(), safetyBackup, confirm = stack.Project });
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"POST /api/resets answered {(int)response.StatusCode}: {body}");
        }

        var runId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
        string status;
        while (true)
        {
            using var answer = JsonDocument.Parse(await portal.Client.GetStringAsync($"/api/resets/{runId}"));
            status = answer.RootElement.GetProperty("status").GetString()!;
            if (status is "succeeded" or "failed")
            {
                break;
            }

            await Task.Delay(100);
        }

        var elapsed = watch.Elapsed;
        // The step log with its times, for the breakdown (the API gives durations only).
        var run = await portal.Resets.GetRunAsync(runId) ?? throw new InvalidOperationException($"Reset run {runId} is gone.");
        if (status != "succeeded")
        {
            throw new InvalidOperationException($"The portal's reset failed: {run.Error}");
        }

        await stack.CheckFingerprintAsync(expected, "the portal's reset");
        var queued = (run.StartedAt!.Value - run.RequestedAt).TotalSeconds;
        var steps = string.Join(", ", new[] { "check", "stop", "safety-backup", "restore", "start", "health" }
            .Select(kind => (Kind: kind, Steps: run.Steps.Where(s => Vocabulary.Name(s.Kind) == kind).ToList()))
            .Where(k => k.Steps.Count > 0)
            .Select(k => $"{k.Kind} {Span(k.Steps):0.0}"));
        return (elapsed, $"queued {queued:0.0}, {steps}");

        // Health steps run side by side: a kind's wall time is from its first start to its last end.
        static double Span(List<ResetStep> steps) =>
            (steps.Max(s => s.StartedAt.AddMilliseconds(s.DurationMs ?? 0)) - steps.Min(s => s.StartedAt)).TotalSeconds;
    }

    /// <summary>
    /// The recipe, in the order that restores safely: the volumes are filled while no service runs (a database must not
    /// start on an empty volume and then have its files replaced under it), and the services start once, on the
    /// restored data.
    /// </summary>
    private static async Task<(TimeSpan, string)> RecipeAsync(LabStack stack, string tarballs, int grace, string expected)
    {
        await stack.InVolumesAsync(ScribbleScript);
        var watch = Stopwatch.StartNew();
        await stack.ComposeAsync("down", "--volumes", "--timeout", grace.ToString());
        var down = watch.Elapsed;
        await stack.ComposeAsync(["up", "--no-start", "--no-build", .. stack.Services]);
        var created = watch.Elapsed;
        foreach (var volume in stack.Volumes)
        {
            await Measure.RunAsync("docker", "run", "--rm", "-v", $"{volume}:/data", "-v", $"{tarballs}:/backup", Image,
                "sh", "-c", $"cd /data && tar xzf /backup/{volume}.tar.gz");
        }

        var restored = watch.Elapsed;
        await stack.UpAsync();
        var elapsed = watch.Elapsed;
        await stack.CheckFingerprintAsync(expected, "the recipe");
        return (elapsed, $"down -v {down.TotalSeconds:0.0}, up --no-start {(created - down).TotalSeconds:0.0}, " +
            $"tar xzf {(restored - created).TotalSeconds:0.0}, up -d --wait {(elapsed - restored).TotalSeconds:0.0}");
    }

    private static async Task<Baseline> CaptureBaselineAsync(PortalHost portal)
    {
        var id = await portal.Resets.CaptureBaselineAsync(new BaselineInput("bench", "reset benchmark (issue 6)", null));
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            var baseline = (await portal.Resets.ListBaselinesAsync()).Single(b => b.Id == id);
            switch (baseline.Set?.Status)
            {
                case BackupSetStatus.Completed:
                    return baseline;
                case BackupSetStatus.Running when DateTime.UtcNow < deadline:
                    await Task.Delay(200);
                    break;
                default:
                    throw new InvalidOperationException($"The baseline's backup did not complete: {baseline.Set?.Status} {baseline.Set?.Error}");
            }
        }
    }

    /// <summary>In every volume's own folder: incompressible bytes, log-like text and 200 small dashboard JSON files.</summary>
    private static string SeedScript(int megabytes) => $$"""
        set -e
        half=$(( {{megabytes}} * 524288 ))
        od -An -tx1 -v /dev/urandom | head -c $half > /tmp/app.log
        for d in /v/*; do
          s=$d/{{Seed}}
          rm -rf $s
          mkdir -p $s/json
          head -c $half /dev/urandom > $s/chunk.bin
          cp /tmp/app.log $s/app.log
          i=0
          while [ $i -lt 200 ]; do
            printf '{"uid":"bench-%d","title":"Dashboard %d","panels":[{"id":1,"type":"timeseries","targets":[{"expr":"rate(up[5m])"}]}]}\n' $i $i > $s/json/dash-$i.json
            i=$((i+1))
          done
        done
        """;

    /// <summary>What a class leaves behind: files gone, files added.</summary>
    private const string ScribbleScript = $"for d in /v/*; do rm -rf $d/{Seed}/json; echo changed > $d/{Seed}/scribble; done";

    private static TimeSpan Median(IEnumerable<TimeSpan> times)
    {
        var sorted = times.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string S(TimeSpan t) => $"{t.TotalSeconds:0.0} s";

    private static string Mb(long bytes) => $"{bytes / 1e6:0.0} MB";

    /// <summary>The lab part of the offline stack, through the docker CLI and tests/stack/compose.sh.</summary>
    private sealed class LabStack(string project, string compose, IReadOnlyList<string> services, IReadOnlyList<string> volumes)
    {
        public string Project => project;

        public IReadOnlyList<string> Services => services;

        public IReadOnlyList<string> Volumes => volumes;

        public static async Task<LabStack> ReadAsync(string project)
        {
            var compose = Path.Combine(RepoRoot(), "tests", "stack", "compose.sh");
            var lines = await LinesAsync("docker", "ps", "-a", "--no-trunc", "--filter", $"label=com.docker.compose.project={project}",
                "--format", "{{.ID}} {{.Label \"com.docker.compose.service\"}} {{.Label \"grafana-panel.role\"}}");
            var lab = lines.Select(l => l.Split(' ')).Where(p => p.Length < 3 || p[2].Length == 0).ToList();
            if (lab.Count == 0)
            {
                throw new InvalidOperationException($"No lab container of the compose project {project} exists: start it with tests/stack/up.sh.");
            }

            var mounts = await LinesAsync(["docker", "inspect", "-f", "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}\n{{end}}{{end}}", .. lab.Select(p => p[0])]);
            return new LabStack(project, compose, [.. lab.Select(p => p[1]).Distinct().Order()], [.. mounts.Distinct().Order()]);
        }

        public Task<string> ComposeAsync(params string[] args) => Measure.RunAsync(compose, args);

        /// <summary><c>docker compose up -d --wait</c> of the lab services: returns once every one is healthy.</summary>
        public async Task UpAsync()
        {
            try
            {
                await ComposeAsync(["up", "--detach", "--no-build", "--wait", "--wait-timeout", "300", .. services]);
            }
            catch (InvalidOperationException e)
            {
                // Say which service and why: the containers' health and their last log lines.
                var ps = await ComposeAsync("ps", "--all", "--format", "{{.Service}}: {{.Status}}");
                var logs = await ComposeAsync("logs", "--no-color", "--tail", "15");
                throw new InvalidOperationException($"{e.Message}\n{ps}\n{logs}", e);
            }
        }

        /// <summary>Runs a busybox script with every lab volume mounted at <c>/v/&lt;volume&gt;</c>.</summary>
        public Task<string> InVolumesAsync(string script) =>
            Measure.RunAsync("docker", ["run", "--rm", "--network", "none", .. volumes.SelectMany(v => new[] { "-v", $"{v}:/v/{v}" }), Image, "sh", "-c", script]);

        public async Task<double> TotalMegabytesAsync() =>
            double.Parse(await InVolumesAsync("du -sk /v/* | awk '{ s += $1 } END { print s }'")) / 1024;

        /// <summary>A hash of every volume's seeded folder: the baseline's content, and neither scribble nor loss.</summary>
        public Task<string> FingerprintAsync() =>
            InVolumesAsync($"for d in /v/*; do echo \"$d $(cd $d/{Seed} && find . -type f | sort | xargs md5sum | md5sum)\"; done");

        public async Task CheckFingerprintAsync(string expected, string what)
        {
            var actual = await FingerprintAsync();
            if (actual != expected)
            {
                throw new InvalidOperationException($"After {what} the volumes do not hold the baseline:\nexpected {expected}\nactual   {actual}");
            }
        }

        /// <summary>Prometheus has scraped: its own query API answers with samples.</summary>
        public async Task WaitForPrometheusDataAsync()
        {
            if (!services.Contains("prometheus"))
            {
                return;
            }

            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (true)
            {
                var answer = await ComposeAsync("exec", "-T", "prometheus", "wget", "-qO-", "http://127.0.0.1:9090/api/v1/query?query=count(up)");
                if (answer.Contains("\"result\":[{", StringComparison.Ordinal))
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Prometheus has no samples after 90 s: {answer}");
                }

                await Task.Delay(1000);
            }
        }

        /// <summary>Waits until the portal's snapshot holds exactly the lab's containers of now, each running.</summary>
        public async Task WaitForSnapshotAsync(StackSnapshot snapshot)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var ids = (await LinesAsync("docker", "ps", "-a", "--no-trunc", "-q", "--filter", $"label=com.docker.compose.project={project}")).ToHashSet();
                var seen = snapshot.Current.Services.Where(s => !s.IsPortal).SelectMany(s => s.Containers).ToList();
                if (seen.Count == ids.Count && seen.All(c => ids.Contains(c.Id) && c.State == Web.Docker.ContainerState.Running))
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("The portal's snapshot did not catch up with the stack within 60 s.");
                }

                await Task.Delay(200);
            }
        }

        private static async Task<List<string>> LinesAsync(params string[] command) =>
            [.. (await Measure.RunAsync(command[0], command[1..])).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

        private static string RepoRoot()
        {
            if (Environment.GetEnvironmentVariable("GRAFANAPANEL_REPO") is { Length: > 0 } root)
            {
                return root;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "GrafanaPanel.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("The repository was not found above the benchmark; set GRAFANAPANEL_REPO.");
        }
    }
}
