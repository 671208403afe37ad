using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.IntegrationTests.Resets;

/// <summary>Resets that must not happen: on a volume labelled as the portal's, or while the stack's state is not known.</summary>
public sealed class ResetSafetyTests : IAsyncLifetime
{
    private ResetLab _lab = default!;

    public async Task InitializeAsync() => _lab = await ResetLab.StartAsync();

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    [Fact]
    public async Task A_reset_refuses_a_volume_labelled_as_the_portals_though_the_snapshot_shows_it_as_a_lab_volume()
    {
        // A lab service (no portal label on its container) using a volume the engine labels as the portal's.
        var labelled = await _lab.Project.CreateVolumeAsync("labelled_data", labels: [("grafana-panel.role", "portal")]);
        await BackupRig.SeedAsync(labelled, bigFile: false);
        var container = await _lab.Project.RunAsync("labelled", ["--stop-signal", "KILL", "-v", $"{labelled}:/data"], "sleep", "3600");
        var snapshot = _lab.App.Services.GetRequiredService<StackSnapshot>();
        await Infrastructure.Eventually.HoldsAsync(() => snapshot.Current.Find("labelled")?.Volumes.Any(v => v.Name == labelled) == true,
            TimeSpan.FromSeconds(30), "the snapshot to show the labelled volume as a lab volume");
        var before = await BackupRig.FingerprintAsync(labelled);
        var startedAt = await ResetLab.StartedAtAsync(container);
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;

        var run = await _lab.FinishedAsync(await service.RequestResetAsync(new ResetRequest(null, ["labelled"], SafetyBackup: true, Confirmation: null)));

        Assert.Equal(ResetStatus.Failed, run.Status);
        Assert.Contains("grafana-panel.role=portal", run.Error);
        Assert.Null(run.SafetySetId);
        Assert.Equal(before, await BackupRig.FingerprintAsync(labelled));
        Assert.Equal(startedAt, await ResetLab.StartedAtAsync(container));
        Assert.Equal("running", await ResetLab.StateAsync(container));
    }

    [Fact]
    public async Task A_reset_is_refused_while_the_stack_has_not_been_read_and_nothing_is_stopped()
    {
        var dbBefore = await BackupRig.FingerprintAsync(_lab.DbVolume);
        var dbStarted = await ResetLab.StartedAtAsync(_lab.Containers["db"]);
        var run = new ResetRun
        {
            Id = Guid.NewGuid(), RequestedAt = DateTimeOffset.UtcNow, RequestedBy = "teacher@panel.test", BaselineName = ResetOptions.FactoryName,
            Services = ["db"], SafetyBackup = true, Status = ResetStatus.Queued, Active = true,
        };
        using (var scope = _lab.App.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanelDbContext>();
            db.ResetRuns.Add(run);
            await db.SaveChangesAsync();
        }

        // The runner as the portal makes it, but on a snapshot that has not been read (as right after start, or with the engine gone).
        using (var scope = _lab.App.Services.CreateScope())
        {
            var unread = new StackSnapshot(Options.Create(new StackOptions { ProjectName = _lab.Project.Name }), TimeProvider.System);
            await ActivatorUtilities.CreateInstance<ResetRunner>(scope.ServiceProvider, unread).RunAsync(run.Id, CancellationToken.None);
        }

        var done = await _lab.RunOfAsync(run.Id);
        Assert.Equal(ResetStatus.Failed, done.Status);
        Assert.Contains("cannot be read", done.Error);
        Assert.Contains("has not been read yet", done.Error);
        Assert.Equal(dbBefore, await BackupRig.FingerprintAsync(_lab.DbVolume));
        Assert.Equal(dbStarted, await ResetLab.StartedAtAsync(_lab.Containers["db"]));
    }
}
