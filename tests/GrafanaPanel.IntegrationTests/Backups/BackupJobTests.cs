using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Backups.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Backups;

public sealed class BackupJobTests : BackupAppTests
{
    private Task<BackupSet> SetAsync(Guid id) =>
        App.DbAsync(db => db.BackupSets.AsNoTracking().Include(s => s.Volumes).SingleAsync(s => s.Id == id));

    private Task<BackupSet> WaitForAsync(Guid id, BackupSetStatus status) =>
        Eventually.ReturnsAsync(() => SetAsync(id), s => s.Status == status, Wait, $"set {id} {status}");

    [Fact]
    public async Task A_backup_through_the_hangfire_job_fills_in_the_catalog_from_the_manifest()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;

        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume, BackupAppFactory.PrometheusVolume], BackupMode.Stop);

        var set = await WaitForAsync(id, BackupSetStatus.Completed);
        Assert.Equal(BackupTrigger.Manual, set.Trigger);
        Assert.Equal(BackupMode.Stop, set.Mode);
        Assert.Equal(1500, set.DurationMs);
        Assert.True(Directory.Exists(Path.Combine(App.BackupDirectory, set.Folder)));
        Assert.Equal(2, set.Volumes.Count);
        Assert.All(set.Volumes, v =>
        {
            Assert.Matches("^[0-9a-f]{64}$", v.Sha256);
            Assert.True(File.Exists(Path.Combine(App.BackupDirectory, set.Folder, v.FileName)));
            Assert.Equal(new FileInfo(Path.Combine(App.BackupDirectory, set.Folder, v.FileName)).Length, v.CompressedBytes);
        });
        Assert.Equal(set.Volumes.Sum(v => v.CompressedBytes), set.CompressedBytes);
        Assert.Equal(BackupMode.Stop, Assert.Single(App.Runner.Backups).Mode);
    }

    [Fact]
    public async Task Running_the_backup_job_twice_is_harmless()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        var first = await WaitForAsync(id, BackupSetStatus.Completed);

        using (var again = App.Services.CreateScope())
        {
            await again.ServiceProvider.GetRequiredService<BackupJob>().RunAsync(id, CancellationToken.None);
        }

        var second = await SetAsync(id);
        Assert.Single(App.Runner.Backups);
        Assert.Equal(first.Folder, second.Folder);
        Assert.Equal(first.CompletedAt, second.CompletedAt);
        Assert.Equal(BackupSetStatus.Completed, second.Status);
    }

    [Fact]
    public async Task A_failing_backup_is_marked_failed_with_the_engine_s_message()
    {
        App.Runner.FailWith = "No space left on device: needs 2 GB, 1 GB free";
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;

        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);

        var set = await WaitForAsync(id, BackupSetStatus.Failed);
        Assert.Contains("No space left", set.Error);
    }

    [Fact]
    public async Task Progress_is_published_while_the_job_runs_and_cleared_after()
    {
        App.Runner.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hub = App.Services.GetRequiredService<BackupProgressHub>();
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;

        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Hot);

        var running = await Eventually.ReturnsAsync(() => Task.FromResult(hub.Find(id)), r => r is { Bytes: 1024 }, Wait, "progress");
        Assert.Equal("copying", running!.Step);
        Assert.Equal(25, running.Percent);
        App.Runner.Hold.SetResult();
        await WaitForAsync(id, BackupSetStatus.Completed);
        Assert.Null(hub.Find(id));
    }

    [Fact]
    public async Task A_viewer_is_refused_and_the_refusal_is_audited()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Viewer));
        using var _ = scope;

        var refused = await Assert.ThrowsAsync<PanelAccessDeniedException>(() => service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause));

        Assert.Contains("Instructor", refused.Message);
        Assert.Equal(0, await App.DbAsync(db => db.BackupSets.CountAsync()));
        Assert.True(await App.DbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == BackupAuditActions.Create && !a.Succeeded)));
    }

    [Theory]
    [InlineData(BackupAppFactory.PortalVolume, "belongs to the portal")]
    [InlineData("grafana-training_other", "not a volume of the stack")]
    public async Task A_backup_of_a_portal_or_unknown_volume_is_refused(string volume, string message)
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Admin));
        using var _ = scope;

        var refused = await Assert.ThrowsAsync<BackupActionRefusedException>(() => service.CreateBackupAsync([volume], BackupMode.Pause));

        Assert.Contains(message, refused.Message);
        Assert.Empty(App.Runner.Backups);
    }

    [Fact]
    public async Task Delete_refuses_a_pinned_set_and_the_newest_verified_set_and_removes_others_with_their_files()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var a = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        await WaitForAsync(a, BackupSetStatus.Completed);
        var b = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        var setB = await WaitForAsync(b, BackupSetStatus.Completed);

        await service.SetPinnedAsync(a, true);
        Assert.Contains("pinned", (await Assert.ThrowsAsync<BackupActionRefusedException>(() => service.DeleteAsync(a))).Message);
        await service.VerifyAsync(b, testRestore: false);
        await Eventually.ReturnsAsync(() => SetAsync(b), s => s.Verification == VerificationState.Passed, Wait, "verified");
        Assert.Contains("newest verified", (await Assert.ThrowsAsync<BackupActionRefusedException>(() => service.DeleteAsync(b))).Message);

        await service.SetPinnedAsync(a, false);
        await service.DeleteAsync(a);

        Assert.False(await App.DbAsync(db => db.BackupSets.AnyAsync(s => s.Id == a)));
        Assert.True(Directory.Exists(Path.Combine(App.BackupDirectory, setB.Folder)));
        Assert.Single(Directory.GetDirectories(App.BackupDirectory));
    }

    [Fact]
    public async Task Restore_and_verify_go_through_their_jobs_with_the_set_s_folder()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        var set = await WaitForAsync(id, BackupSetStatus.Completed);

        await service.RestoreAsync(id, [BackupAppFactory.GrafanaVolume], "grafana_copy");

        var restore = await Eventually.ReturnsAsync(() => Task.FromResult(App.Runner.Restores.FirstOrDefault()), r => r is not null, Wait, "restore");
        Assert.Equal(Path.Combine(App.BackupDirectory, set.Folder), restore!.Folder);
        Assert.Equal("grafana_copy", restore.IntoNewVolume);
        Assert.Contains("exactly one volume", (await Assert.ThrowsAsync<BackupActionRefusedException>(() => service.RestoreAsync(id, null, "x_copy"))).Message);
        Assert.Contains("already exists", (await Assert.ThrowsAsync<BackupActionRefusedException>(
            () => service.RestoreAsync(id, [BackupAppFactory.GrafanaVolume], BackupAppFactory.PrometheusVolume))).Message);
        Assert.Contains("not a valid volume name", (await Assert.ThrowsAsync<BackupActionRefusedException>(
            () => service.RestoreAsync(id, [BackupAppFactory.GrafanaVolume], "../etc"))).Message);
    }

    [Fact]
    public async Task Every_job_records_its_outcome_in_the_audit_log_as_the_user_who_asked()
    {
        const string user = "teacher@panel.test";
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor, user));
        using var _ = scope;
        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        await WaitForAsync(id, BackupSetStatus.Completed);
        App.Runner.FailWith = "the disk fell off";
        var failed = await service.CreateBackupAsync([BackupAppFactory.PrometheusVolume], BackupMode.Pause);
        await WaitForAsync(failed, BackupSetStatus.Failed);

        await service.RestoreAsync(id);
        await service.VerifyAsync(id, testRestore: false);
        await service.RescanAsync();
        var schedule = await service.CreateScheduleAsync(new ScheduleInput("nightly", [BackupAppFactory.GrafanaVolume], "0 2 * * *", "UTC", BackupMode.Pause, 5, null));
        await service.RunScheduleNowAsync(schedule);

        var entries = await Eventually.ReturnsAsync(() => TestAudit.EntriesAsync(App, "backup."),
            e => e.Count(x => x.Action.EndsWith(".job", StringComparison.Ordinal)) >= 7 && e.Any(x => x.Action == BackupAuditActions.RetentionJob),
            Wait, "the jobs' audit entries");
        var jobs = entries.Where(e => e.Action.EndsWith(".job", StringComparison.Ordinal)).ToList();
        Assert.Contains(jobs, e => e is { Action: BackupAuditActions.BackupJob, Succeeded: true } && e.User == user && e.Target.StartsWith(id.ToString()));
        Assert.Contains(jobs, e => e is { Action: BackupAuditActions.BackupJob, Succeeded: false, Error: "the disk fell off" } && e.User == user
            && e.Target == $"{failed} {BackupAppFactory.PrometheusVolume}");
        Assert.Contains(jobs, e => e is { Action: BackupAuditActions.RestoreJob, Succeeded: true } && e.User == user && e.Target == id.ToString());
        Assert.Contains(jobs, e => e is { Action: BackupAuditActions.VerifyJob, Succeeded: true } && e.User == user && e.Target == id.ToString());
        Assert.Contains(jobs, e => e is { Action: BackupAuditActions.RescanJob, Succeeded: true } && e.User == user && e.Target.StartsWith("catalog: "));
        Assert.Contains(jobs, e => e is { Action: BackupAuditActions.BackupJob, Succeeded: true, User: "schedule:nightly" });
        Assert.Contains(jobs, e => e is { Action: BackupAuditActions.RetentionJob, Succeeded: true, User: "schedule:nightly", Target: "nightly: 0 set(s) deleted" });
    }

    [Fact]
    public async Task A_restore_of_a_set_found_corrupt_after_it_was_asked_for_is_refused_and_audited()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        await WaitForAsync(id, BackupSetStatus.Completed);
        // As a verification or rescan that ran between the request and the job would leave it.
        await App.DbAsync(db => db.BackupSets.Where(s => s.Id == id).ExecuteUpdateAsync(u => u
            .SetProperty(s => s.Status, BackupSetStatus.Corrupt).SetProperty(s => s.Error, "Archive 'x' failed its integrity check: SHA-256 differs")));

        using (var jobScope = App.Services.CreateScope())
        {
            await jobScope.ServiceProvider.GetRequiredService<RestoreJob>().RunAsync(id, null, null, "asker@panel.test", CancellationToken.None);
        }

        var refused = await Assert.ThrowsAsync<BackupActionRefusedException>(() => service.RestoreAsync(id));
        Assert.Contains("The set is corrupt (Archive 'x' failed its integrity check: SHA-256 differs)", refused.Message);
        Assert.Empty(App.Runner.Restores);
        var audited = Assert.Single(await TestAudit.EntriesAsync(App, BackupAuditActions.RestoreJob));
        Assert.False(audited.Succeeded);
        Assert.Equal("asker@panel.test", audited.User);
        Assert.Contains("Nothing was restored: the set is corrupt", audited.Error);
    }
}
