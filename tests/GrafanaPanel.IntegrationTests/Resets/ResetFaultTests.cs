using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Resets;

/// <summary>A reset that loses the Docker daemon half-way, on a private daemon the test stops and starts.</summary>
public sealed class ResetFaultTests
{
    [Fact]
    public async Task A_daemon_stopped_mid_reset_fails_it_and_its_services_run_again_when_the_daemon_is_back_and_the_reset_can_be_repeated()
    {
        await using var daemon = await IsolatedDockerd.StartAsync();
        await TestProject.BuildImageAsync(daemon.Endpoint);
        var project = "gpreset" + Guid.NewGuid().ToString("N")[..8];
        var volume = $"{project}_data";
        Task<string> Docker(params string[] args) => DockerCli.RunAsync(args, daemon.Endpoint);
        await Docker("volume", "create", "--label", $"{ContainerRecord.ProjectLabel}={project}", volume);
        // Big enough that the safety backup is still copying when the daemon goes.
        await Docker("run", "--rm", "--network", "none", "-v", $"{volume}:/d", TestProject.Image, "sh", "-c", "head -c 157286400 /dev/urandom > /d/big.bin");
        string[] common = ["run", "-d", "--network", "none", "--stop-signal", "KILL", "--restart", "unless-stopped", "--label", $"{ContainerRecord.ProjectLabel}={project}"];
        var db = await Docker([.. common, "--name", $"{project}-db-1", "--label", $"{ContainerRecord.ServiceLabel}=db", TestProject.Image, "sleep", "3600"]);
        var app = await Docker([.. common, "--name", $"{project}-app-1", "--label", $"{ContainerRecord.ServiceLabel}=app",
            "--label", $"{ContainerRecord.DependsOnLabel}=db:service_started:false", "-v", $"{volume}:/data", TestProject.Image, "sleep", "3600"]);
        var portal = new EngineBackupAppFactory(project, dockerEndpoint: daemon.Endpoint);
        portal.With("Resets:HealthPollInterval", "00:00:00.200").With("Resets:StopGracePeriod", "00:00:01");
        try
        {
            await portal.ReadyAsync(volume);
            var stopped = 0;
            var runId = Guid.Empty;
            // The daemon goes on the reset's own thread as soon as its safety backup has begun: the services are stopped by then.
            portal.Services.GetRequiredService<ResetProgressHub>().Changed += id =>
            {
                if (Volatile.Read(ref stopped) == 0 && SafetyBackupRunning(portal, id) && Interlocked.Exchange(ref stopped, 1) == 0)
                {
                    daemon.StopAsync().GetAwaiter().GetResult();
                }
            };
            using var scope = portal.Services.CreateScope();
            var (_, gate) = await TestAccounts.SignedInAsync(scope.ServiceProvider, PanelRoles.Instructor);
            var service = ActivatorUtilities.CreateInstance<ResetService>(scope.ServiceProvider, gate);

            runId = await service.RequestResetAsync(new ResetRequest(null, null, SafetyBackup: true, Confirmation: project));
            var run = await Eventually.ReturnsAsync(() => RunAsync(portal, runId), r => !r.Active, EngineBackupAppFactory.Wait, "the reset to end");

            Assert.Equal(1, stopped);
            Assert.Equal(ResetStatus.Failed, run.Status);
            Assert.False(string.IsNullOrWhiteSpace(run.Error));
            Assert.Contains(run.Steps, s => s.Kind == ResetStepKind.Start && s.Status == ResetStepStatus.Failed);
            var safety = await portal.DbAsync(d => d.BackupSets.AsNoTracking().SingleAsync(s => s.Id == run.SafetySetId));
            Assert.Equal(BackupSetStatus.Failed, safety.Status);
            Assert.Single(Directory.GetFiles(Path.Combine(portal.BackupDirectory, InflightJournal.FolderName)));

            // Back: recovery starts what the reset had stopped (a manual stop survives a daemon restart otherwise).
            await daemon.StartAgainAsync();
            foreach (var container in new[] { db, app })
            {
                await Eventually.ReturnsAsync(() => Docker("inspect", "-f", "{{.State.Status}}", container), s => s == "running",
                    EngineBackupAppFactory.Wait, $"container {container} to run again");
            }

            await Eventually.HoldsAsync(() => Directory.GetFiles(Path.Combine(portal.BackupDirectory, InflightJournal.FolderName)).Length == 0,
                EngineBackupAppFactory.Wait, "the journal to be done with");

            await Eventually.HoldsAsync(() => !portal.Services.GetRequiredService<Web.Features.Stack.StackSnapshot>().Current.IsStale,
                EngineBackupAppFactory.Wait, "the snapshot to follow the daemon again");
            var again = await service.RequestResetAsync(new ResetRequest(null, ["app"], SafetyBackup: false, Confirmation: null));
            var done = await Eventually.ReturnsAsync(() => RunAsync(portal, again), r => !r.Active, EngineBackupAppFactory.Wait, "the second reset to end");
            Assert.True(done.Status == ResetStatus.Succeeded, done.Error);
            Assert.Equal("", await Docker("run", "--rm", "--network", "none", "-v", $"{volume}:/d:ro", TestProject.Image, "ls", "-A", "/d"));
        }
        finally
        {
            await portal.DisposeAllAsync();
        }
    }

    private static bool SafetyBackupRunning(PanelAppFactory portal, Guid runId)
    {
        using var scope = portal.Services.CreateScope();
        var run = scope.ServiceProvider.GetRequiredService<PanelDbContext>().ResetRuns.AsNoTracking().FirstOrDefault(r => r.Id == runId);
        return run?.Steps.Any(s => s is { Kind: ResetStepKind.SafetyBackup, Status: ResetStepStatus.Running }) == true;
    }

    private static async Task<ResetRun> RunAsync(PanelAppFactory portal, Guid id)
    {
        using var scope = portal.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<PanelDbContext>().ResetRuns.AsNoTracking().SingleAsync(r => r.Id == id);
    }
}
