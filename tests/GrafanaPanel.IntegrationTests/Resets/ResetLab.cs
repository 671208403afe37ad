using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Resets;

/// <summary>
/// A small lab on the real engine for reset tests: services "db" (volume db_data) and "app" (volume app_data, depends
/// on db), "worker" (no volume, no health check) and the portal's own "panel" (volume panel_db), each with Docker
/// health checks, plus the real portal on a fresh database watching that project.
/// </summary>
public sealed class ResetLab : IAsyncDisposable
{
    private ResetLab(TestProject project, PanelAppFactory app, string directory)
    {
        Project = project;
        App = app;
        Directory = directory;
    }

    public TestProject Project { get; }

    public PanelAppFactory App { get; }

    public string Directory { get; }

    public string DbVolume => $"{Project.Name}_db_data";

    public string AppVolume => $"{Project.Name}_app_data";

    public string PanelVolume => $"{Project.Name}_panel_db";

    public Dictionary<string, string> Containers { get; } = [];

    /// <param name="appHealth">The health command of "app" (default: always healthy).</param>
    /// <param name="database">An existing database to run on (e.g. on a server the test restarts); default a fresh one.</param>
    /// <param name="testServices">Services the test adds to the portal's (an in-memory trace exporter, say).</param>
    public static async Task<ResetLab> StartAsync(string appHealth = "true", string healthTimeout = "00:00:30", string? database = null,
        Action<IServiceCollection>? testServices = null)
    {
        await TestProject.EnsureImageAsync();
        var project = new TestProject();
        var directory = System.IO.Directory.CreateTempSubdirectory("gp-resets-").FullName;
        var app = new PanelAppFactory { Database = database, TestServices = testServices }
            .With("Stack:ProjectName", project.Name)
            .With("Backups:Directory", directory)
            .With("Backups:HelperImage", TestProject.Image)
            .With("Backups:FreeSpaceMarginBytes", "0")
            .With("Resets:HealthTimeout", healthTimeout)
            .With("Resets:HealthPollInterval", "00:00:00.200")
            .With("Resets:StopGracePeriod", "00:00:01");
        var lab = new ResetLab(project, app, directory);
        try
        {
            foreach (var volume in new[] { "db_data", "app_data", "panel_db" })
            {
                var name = await project.CreateVolumeAsync(volume);
                await BackupRig.SeedAsync(name, bigFile: false);
            }

            lab.Containers["db"] = await lab.RunAsync("db", ["-v", $"{lab.DbVolume}:/data", "--health-cmd", "test -d /data", .. FastHealth]);
            lab.Containers["app"] = await lab.RunAsync("app",
                ["-v", $"{lab.AppVolume}:/data", "--label", $"{ContainerRecord.DependsOnLabel}=db:service_healthy:false", "--health-cmd", appHealth, .. FastHealth]);
            lab.Containers["worker"] = await lab.RunAsync("worker", []);
            lab.Containers["panel"] = await lab.RunAsync("panel", ["-v", $"{lab.PanelVolume}:/data", "--label", $"{ContainerRecord.PortalRoleLabel}=database"]);

            await app.InitializeAsync();
            await app.WaitUntilDatabaseReadyAsync();
            var snapshot = app.Services.GetRequiredService<StackSnapshot>();
            await Eventually.HoldsAsync(() => snapshot.Current.Services.Length == 4 && snapshot.Current.Services.All(s => s.State == ContainerState.Running),
                TimeSpan.FromSeconds(30), "the snapshot to list 4 running services");
            return lab;
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: without this, its containers (health checks every
            // second) would outlive the run. The start's failure is the one to report, not a clean-up's.
            await lab.DisposeAsync().AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
            throw;
        }
    }

    private static readonly string[] FastHealth = ["--health-interval", "1s", "--health-timeout", "2s", "--health-retries", "1"];

    private Task<string> RunAsync(string service, IEnumerable<string> options) =>
        // sleep as PID 1 ignores SIGTERM; KILL spares each stop the grace period without changing what is tested.
        Project.RunAsync(service, ["--stop-signal", "KILL", .. options], "sleep", "3600");

    /// <summary>The reset service as a circuit of a new user with <paramref name="role"/> would call it, in its own scope.</summary>
    public async Task<(ResetService Service, IServiceScope Scope)> ServiceForAsync(string role)
    {
        var scope = App.Services.CreateScope();
        var (_, gate) = await TestAccounts.SignedInAsync(scope.ServiceProvider, role);
        return (ActivatorUtilities.CreateInstance<ResetService>(scope.ServiceProvider, gate), scope);
    }

    public async Task<T> DbAsync<T>(Func<PanelDbContext, Task<T>> query)
    {
        using var scope = App.Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<PanelDbContext>());
    }

    public Task<ResetRun> RunOfAsync(Guid id) => DbAsync(db => db.ResetRuns.AsNoTracking().SingleAsync(r => r.Id == id));

    /// <summary>Waits until the run has finished (succeeded or failed) and returns it.</summary>
    public Task<ResetRun> FinishedAsync(Guid id, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(() => RunOfAsync(id), r => r.Status is ResetStatus.Succeeded or ResetStatus.Failed,
            timeout ?? TimeSpan.FromSeconds(120), $"reset {id} to finish");

    /// <summary>Captures a baseline through the service and waits until its backup has completed.</summary>
    public async Task<Baseline> CaptureAsync(ResetService service, string name)
    {
        var id = await service.CaptureBaselineAsync(new BaselineInput(name, "test", null));
        return await Eventually.ReturnsAsync(
            () => DbAsync(db => db.Baselines.AsNoTracking().Include(b => b.Set).ThenInclude(s => s!.Volumes).SingleAsync(b => b.Id == id)),
            b => b.Set!.Status is BackupSetStatus.Completed or BackupSetStatus.Failed, TimeSpan.FromSeconds(60), $"baseline {name} to be captured");
    }

    public static Task<string> StateAsync(string container) => DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", container);

    public static Task<string> StartedAtAsync(string container) => DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", container);

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncLifetime)App).DisposeAsync();
        await Project.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
