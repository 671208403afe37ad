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
