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

    public async ValueTask InitializeAsync() => _lab = await ResetLab.StartAsync();

    public async ValueTask DisposeAsync() => await _lab.DisposeAsync();

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
    public async Task A_reset_to_a_baseline_that_Docker_s_volume_storage_cannot_hold_is_refused_with_the_numbers_and_nothing_is_stopped()
    {
        // A service on a 4 MiB tmpfs volume holding 3 MiB when the baseline is captured ...
        var tmpfs = new[] { "type=tmpfs", "device=tmpfs" };
        var small = await _lab.Project.CreateVolumeAsync("small", driverOptions: [.. tmpfs, "o=size=4m"]);
        var container = await _lab.Project.RunAsync("small", ["--stop-signal", "KILL", "-v", $"{small}:/data"], "sleep", "3600");
        await BackupRig.InVolumeAsync(small, "head -c 3145728 /dev/urandom > /d/noise.bin");
        var snapshot = _lab.App.Services.GetRequiredService<StackSnapshot>();
        await Infrastructure.Eventually.HoldsAsync(() => snapshot.Current.Find("small")?.Volumes.Any(v => v.Name == small) == true,
            TimeSpan.FromSeconds(30), "the snapshot to show the small volume");
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;
        var baseline = await _lab.CaptureAsync(service, "three-mib");
        Assert.Equal(Web.Features.Backups.BackupSetStatus.Completed, baseline.Set!.Status);
        var tarBytes = baseline.Set.Volumes.Single(v => v.VolumeName == small).UncompressedBytes;
        // ... then made anew on a 2 MiB tmpfs, which the baseline's 3 MiB cannot fill even once emptied.
        await Infrastructure.DockerCli.RunAsync("rm", "-f", container);
        await Infrastructure.DockerCli.RunAsync("volume", "rm", small);
        await _lab.Project.CreateVolumeAsync("small", driverOptions: [.. tmpfs, "o=size=2m"]);
        container = await _lab.Project.RunAsync("small", ["--stop-signal", "KILL", "-v", $"{small}:/data"], "sleep", "3600");
        await BackupRig.InVolumeAsync(small, "echo kept > /d/kept.txt");
        await Infrastructure.Eventually.HoldsAsync(() => snapshot.Current.Find("small")?.Containers.Any(c => c.Id == container) == true,
            TimeSpan.FromSeconds(30), "the snapshot to show the new small container");
        var before = await BackupRig.FingerprintAsync(small);
        var startedAt = await ResetLab.StartedAtAsync(container);

        var run = await _lab.FinishedAsync(await service.RequestResetAsync(new ResetRequest(baseline.Id, ["small"], SafetyBackup: true, Confirmation: null)));

        Assert.Equal(ResetStatus.Failed, run.Status);
        Assert.Contains($"Volume {small} needs at least {tarBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes", run.Error);
        Assert.Contains("Nothing was restored, stopped or emptied", run.Error);
        Assert.Null(run.SafetySetId);
        Assert.Equal(before, await BackupRig.FingerprintAsync(small));
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
