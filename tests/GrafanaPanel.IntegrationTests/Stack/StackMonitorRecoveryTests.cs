using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Stack;

/// <summary>The overview survives a restart of the Docker daemon: last known state while it is gone, live again after.</summary>
public sealed class StackMonitorRecoveryTests
{
    [Fact]
    public async Task A_restarted_daemon_is_followed_again_without_a_reload()
    {
        await using var daemon = await IsolatedDockerd.StartAsync();
        var project = "gprecover" + Guid.NewGuid().ToString("N")[..8];
        await BuildBusyboxAsync(daemon.Endpoint);
        var id = await DockerCli.RunAsync(
            ["run", "-d", "--network", "none", "--restart", "unless-stopped", "--name", $"{project}-worker-1",
             "--label", $"{ContainerRecord.ProjectLabel}={project}", "--label", $"{ContainerRecord.ServiceLabel}=worker",
             TestProject.Image, "sleep", "3600"], daemon.Endpoint);

        await using var app = new PanelAppFactory()
            .With("Docker:Endpoint", daemon.Endpoint)
            .With("Docker:RequestTimeout", "00:00:05")
            .With("Stack:ProjectName", project)
            .With("Stack:ReconcileInterval", "01:00:00");
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            var snapshot = app.Services.GetRequiredService<StackSnapshot>();
            await Eventually.HoldsAsync(() => snapshot.Current.Find("worker")?.State == ContainerState.Running && !snapshot.Current.IsStale,
                TimeSpan.FromSeconds(30), "the worker to show as running");

            await daemon.StopAsync();
            await Eventually.HoldsAsync(() => snapshot.Current.IsStale, TimeSpan.FromSeconds(30), "the snapshot to be marked stale");
            Assert.NotNull(snapshot.Current.Find("worker"));

            await daemon.StartAgainAsync();
            await Eventually.HoldsAsync(() => !snapshot.Current.IsStale, TimeSpan.FromSeconds(60), "the snapshot to recover");

            // Events flow again: a stop made outside the portal arrives (reconciliation is an hour away).
            await DockerCli.RunAsync(["stop", "-t", "1", id], daemon.Endpoint);
            await Eventually.HoldsAsync(() => snapshot.Current.Find("worker")?.State == ContainerState.Exited,
                TimeSpan.FromSeconds(30), "the stop to arrive as an event");
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task Following_logs_goes_on_after_the_daemon_restarts()
    {
        await using var daemon = await IsolatedDockerd.StartAsync();
        var project = "gplogs" + Guid.NewGuid().ToString("N")[..8];
        await BuildBusyboxAsync(daemon.Endpoint);
        // The counter survives the restart in a volume, so lines after it are new numbers.
        await DockerCli.RunAsync(
            ["run", "-d", "--network", "none", "--restart", "always", "--name", $"{project}-ticker-1",
             "--label", $"{ContainerRecord.ProjectLabel}={project}", "--label", $"{ContainerRecord.ServiceLabel}=ticker",
             "-v", $"{project}_state:/state", TestProject.Image,
             "sh", "-c", "n=$(cat /state/n 2>/dev/null || echo 0); while true; do n=$((n+1)); echo $n > /state/n; echo tick $n; sleep 0.3; done"],
            daemon.Endpoint);

        await using var app = new PanelAppFactory()
            .With("Docker:Endpoint", daemon.Endpoint)
            .With("Docker:RequestTimeout", "00:00:05")
            .With("Stack:ProjectName", project);
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            var snapshot = app.Services.GetRequiredService<StackSnapshot>();
            await Eventually.HoldsAsync(() => snapshot.Current.Find("ticker") is not null, TimeSpan.FromSeconds(30), "the ticker in the snapshot");
            using var scope = app.Services.CreateScope();
            var logs = scope.ServiceProvider.GetRequiredService<StackLogs>();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var lines = new List<ServiceLogLine>();
            var restarted = false;
            long lastBeforeRestart = 0;

            await foreach (var line in logs.ReadAsync(["ticker"], 5, follow: true, cts.Token))
            {
                lines.Add(line);
                var number = line.Text.StartsWith("tick ", StringComparison.Ordinal) ? long.Parse(line.Text[5..]) : 0;
                if (!restarted && lines.Count >= 8)
                {
                    lastBeforeRestart = lines.Where(l => l.Text.StartsWith("tick ", StringComparison.Ordinal)).Max(l => long.Parse(l.Text[5..]));
                    restarted = true;
                    await daemon.StopAsync();
                    await daemon.StartAgainAsync();
                }
                else if (restarted && number > lastBeforeRestart + 3)
                {
                    break;
                }
            }

            Assert.True(restarted);
            var ticks = lines.Where(l => l.Text.StartsWith("tick ", StringComparison.Ordinal)).Select(l => long.Parse(l.Text[5..])).ToList();
            Assert.Equal(ticks.Order(), ticks);
            Assert.Equal(ticks.Count, ticks.Distinct().Count());
            Assert.True(lines.Any(l => l.Text.StartsWith("tick ", StringComparison.Ordinal) && long.Parse(l.Text[5..]) > lastBeforeRestart + 3),
                "lines written after the restart arrive in the same follow");
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    private static async Task BuildBusyboxAsync(string endpoint)
    {
        var context = Directory.CreateTempSubdirectory("gp-busybox-");
        try
        {
            File.Copy("/bin/busybox", Path.Combine(context.FullName, "busybox"));
            await File.WriteAllTextAsync(Path.Combine(context.FullName, "Dockerfile"),
                "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
            await DockerCli.RunAsync(["build", "-q", "-t", TestProject.Image, context.FullName], endpoint);
        }
        finally
        {
            context.Delete(recursive: true);
        }
    }
}
