using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Backups.Jobs;
using GrafanaPanel.Web.Features.Schedules;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Backups;

public sealed class BackupScheduleTests : BackupAppTests
{
    private static ScheduleInput Nightly(string cron = "0 2 * * *", int? keepLast = 7, string name = "nightly") =>
        new(name, [BackupAppFactory.GrafanaVolume], cron, "Europe/Berlin", BackupMode.Pause, keepLast, null);

    private RecurringJobDto? Recurring(string id)
    {
        using var connection = App.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs().FirstOrDefault(j => j.Id == id);
    }

    [Theory]
    [InlineData("0 0 2 * * *", "six fields")]
    [InlineData("0 2 ? * *", "Quartz")]
    [InlineData("0 2 * *", "has 4 field(s)")]
    [InlineData("", "Enter a cron expression")]
    [InlineData("0 0 30 2 *", "never fires")]
    public async Task A_bad_cron_expression_is_refused_with_a_clear_message_and_nothing_is_saved(string cron, string message)
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;

        var refused = await Assert.ThrowsAsync<ScheduleValidationException>(() => service.CreateScheduleAsync(Nightly(cron)));

        Assert.Contains(message, refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await App.DbAsync(db => db.BackupSchedules.CountAsync()));
    }

    [Fact]
    public async Task Bad_volumes_retention_and_names_are_refused()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;

        Assert.Contains("belongs to the portal", (await Assert.ThrowsAsync<ScheduleValidationException>(() =>
            service.CreateScheduleAsync(Nightly() with { Volumes = [BackupAppFactory.PortalVolume] }))).Message);
        Assert.Contains("not a volume of the stack", (await Assert.ThrowsAsync<ScheduleValidationException>(() =>
            service.CreateScheduleAsync(Nightly() with { Volumes = ["../grafana"] }))).Message);
        Assert.Contains("at least one volume", (await Assert.ThrowsAsync<ScheduleValidationException>(() =>
            service.CreateScheduleAsync(Nightly() with { Volumes = [] }))).Message);
        Assert.Contains("delete every backup", (await Assert.ThrowsAsync<ScheduleValidationException>(() =>
            service.CreateScheduleAsync(Nightly(keepLast: 0)))).Message);
        Assert.Contains("Unknown time zone", (await Assert.ThrowsAsync<ScheduleValidationException>(() =>
            service.CreateScheduleAsync(Nightly() with { TimeZone = "Mars/Olympus" }))).Message);
        await service.CreateScheduleAsync(Nightly());
        Assert.Contains("already exists", (await Assert.ThrowsAsync<ScheduleValidationException>(() => service.CreateScheduleAsync(Nightly()))).Message);
    }

    [Fact]
    public async Task A_schedule_is_a_recurring_job_in_its_time_zone_removed_on_pause_and_delete_and_exported_as_metrics()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;

        var id = await service.CreateScheduleAsync(Nightly());

        var job = Recurring(BackupScheduler.JobId(id));
        Assert.NotNull(job);
        Assert.Equal("0 2 * * *", job!.Cron);
        Assert.Equal("Europe/Berlin", job.TimeZoneId);
        Assert.NotNull(Recurring(BackupScheduler.VerifyAllJobId));
        using var client = App.CreateAnonymousClient();
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("grafanapanel_backup_schedule_interval_seconds{schedule=\"nightly\"} 86400", metrics);
        Assert.Contains("grafanapanel_backup_last_success_timestamp_seconds{schedule=\"nightly\"}", metrics);
        Assert.Contains("grafanapanel_backup_duration_seconds", metrics);

        await service.SetPausedAsync(id, true);
        Assert.Null(Recurring(BackupScheduler.JobId(id)));
        Assert.DoesNotContain("schedule=\"nightly\"", await client.GetStringAsync("/metrics"));
        await service.SetPausedAsync(id, false);
        Assert.NotNull(Recurring(BackupScheduler.JobId(id)));
        // Monday and Wednesday: the interval is the longest gap (Wednesday to Monday), whichever day it is today.
        await service.UpdateScheduleAsync(id, Nightly("0 2 * * 1,3"));
        Assert.Contains("grafanapanel_backup_schedule_interval_seconds{schedule=\"nightly\"} 432000", await client.GetStringAsync("/metrics"));
        await service.UpdateScheduleAsync(id, Nightly("*/30 * * * *"));
        Assert.Equal("*/30 * * * *", Recurring(BackupScheduler.JobId(id))!.Cron);

        await service.DeleteScheduleAsync(id);
        Assert.Null(Recurring(BackupScheduler.JobId(id)));
    }

    [Fact]
    public async Task Scheduled_runs_apply_retention_that_never_deletes_a_pinned_or_the_newest_verified_set()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var schedule = await service.CreateScheduleAsync(Nightly(keepLast: 1));

        async Task<Guid> RunAsync(int expected)
        {
            await service.RunScheduleNowAsync(schedule);
            var sets = await Eventually.ReturnsAsync(
                () => App.DbAsync(db => db.BackupSets.AsNoTracking().Where(s => s.ScheduleId == schedule && s.Status == BackupSetStatus.Completed)
                    .OrderBy(s => s.CreatedAt).ToListAsync()),
                s => s.Count == expected && s.All(x => x.Trigger == BackupTrigger.Schedule), Wait, $"{expected} scheduled sets");
            return sets[^1].Id;
        }

        var pinned = await RunAsync(1);
        await service.SetPinnedAsync(pinned, true);
        var verified = await RunAsync(2);
        await service.VerifyAsync(verified, testRestore: false);
        await Eventually.ReturnsAsync(() => App.DbAsync(db => db.BackupSets.SingleAsync(s => s.Id == verified)),
            s => s.Verification == VerificationState.Passed, Wait, "verified");
        var third = await RunAsync(3);
        // keep-last 1 keeps the third; the pinned and the verified stay whatever the rule says.
        Assert.Empty(await service.ApplyRetentionAsync(schedule));

        await service.RunScheduleNowAsync(schedule);
        await Eventually.ReturnsAsync(
            () => App.DbAsync(db => db.BackupSets.Where(s => s.ScheduleId == schedule).Select(s => s.Id).ToListAsync()),
            ids => ids.Count == 3 && !ids.Contains(third) && ids.Contains(pinned) && ids.Contains(verified), Wait, "retention after the fourth run");
        var stored = await App.DbAsync(db => db.BackupSchedules.SingleAsync(s => s.Id == schedule));
        Assert.NotNull(stored.LastSuccessAt);
        Assert.Equal(3, Directory.GetDirectories(App.BackupDirectory).Length);

        using var jobScope = App.Services.CreateScope();
        Assert.Empty(await jobScope.ServiceProvider.GetRequiredService<BackupRetention>().ApplyAsync(schedule, CancellationToken.None));
    }

    [Fact]
    public async Task A_second_delivery_of_a_running_scheduled_or_manual_backup_copies_nothing_again()
    {
        App.Runner.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var schedule = await service.CreateScheduleAsync(Nightly());
        await service.RunScheduleNowAsync(schedule);
        var running = await Eventually.ReturnsAsync(() => App.DbAsync(db => db.BackupSets.Where(s => s.ScheduleId == schedule).ToListAsync()),
            s => s.Count == 1 && App.Runner.Backups.Count == 1, Wait, "a running scheduled set");

        using (var jobScope = App.Services.CreateScope())
        {
            await jobScope.ServiceProvider.GetRequiredService<ScheduledBackupJob>().RunAsync(schedule, CancellationToken.None);
            await jobScope.ServiceProvider.GetRequiredService<BackupJob>().RunAsync(running[0].Id, CancellationToken.None);
        }

        Assert.Single(App.Runner.Backups);
        Assert.Equal(1, await App.DbAsync(db => db.BackupSets.CountAsync()));
        App.Runner.Hold.SetResult();
        await Eventually.ReturnsAsync(() => App.DbAsync(db => db.BackupSets.SingleAsync()), s => s.Status == BackupSetStatus.Completed, Wait, "completed");
    }

    [Fact]
    public async Task A_rescan_imports_an_unknown_folder_and_flags_missing_and_corrupt_sets()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var gone = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        var flipped = await service.CreateBackupAsync([BackupAppFactory.PrometheusVolume], BackupMode.Pause);
        var goneSet = await Eventually.ReturnsAsync(() => App.DbAsync(db => db.BackupSets.SingleAsync(s => s.Id == gone)), s => s.Status == BackupSetStatus.Completed, Wait, "gone");
        var flippedSet = await Eventually.ReturnsAsync(() => App.DbAsync(db => db.BackupSets.Include(s => s.Volumes).SingleAsync(s => s.Id == flipped)), s => s.Status == BackupSetStatus.Completed, Wait, "flipped");
        // A set carried over from another machine: on disk, not in the catalog.
        var foreignId = Guid.NewGuid();
        await App.Runner.BackupAsync(new BackupRequest(foreignId, [BackupAppFactory.GrafanaVolume], BackupMode.Hot, ArchiveCompression.Gzip, BackupTrigger.Manual), null, CancellationToken.None);
        var safetyId = Guid.NewGuid();
        await App.Runner.BackupAsync(new BackupRequest(safetyId, [BackupAppFactory.GrafanaVolume], BackupMode.Stop, ArchiveCompression.Zstd, BackupTrigger.PreRestore), null, CancellationToken.None);
        Directory.Delete(Path.Combine(App.BackupDirectory, goneSet.Folder), recursive: true);
        var archive = Path.Combine(App.BackupDirectory, flippedSet.Folder, flippedSet.Volumes[0].FileName);
        var bytes = await File.ReadAllBytesAsync(archive);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(archive, bytes);
        Directory.CreateDirectory(Path.Combine(App.BackupDirectory, "not-a-set"));

        using var jobScope = App.Services.CreateScope();
        var result = await jobScope.ServiceProvider.GetRequiredService<CatalogRescanJob>().RunAsync(CancellationToken.None);

        Assert.Equal(new[] { foreignId, safetyId }.Order(), result.Imported.Order());
        Assert.Equal(BackupTrigger.PreRestore, (await App.DbAsync(db => db.BackupSets.SingleAsync(s => s.Id == safetyId))).Trigger);
        Assert.Equal([gone], result.Missing);
        Assert.Equal([flipped], result.Corrupt);
        var imported = await App.DbAsync(db => db.BackupSets.Include(s => s.Volumes).SingleAsync(s => s.Id == foreignId));
        Assert.Equal((BackupTrigger.Import, BackupSetStatus.Completed, "gzip"), (imported.Trigger, imported.Status, imported.Compression));
        Assert.Single(imported.Volumes);
        Assert.Contains("SHA-256", (await App.DbAsync(db => db.BackupSets.SingleAsync(s => s.Id == flipped))).Error);

        var again = await jobScope.ServiceProvider.GetRequiredService<CatalogRescanJob>().RunAsync(CancellationToken.None);
        Assert.Empty(again.Imported.Concat(again.Missing).Concat(again.Corrupt));
    }
}

public sealed class BackupRecoveryTests
{
    [Fact]
    public async Task A_set_left_running_by_a_killed_process_is_marked_failed_and_its_leftovers_removed_at_the_next_start()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var first = new BackupAppFactory { Database = database };
        await first.InitializeAsync();
        await first.ReadyAsync();
        var running = BackupSet.NewRunning([BackupAppFactory.GrafanaVolume], BackupMode.Pause, BackupTrigger.Manual, "someone", null);
        await first.DbAsync(async db =>
        {
            db.BackupSets.Add(running);
            return await db.SaveChangesAsync();
        });
        await first.DisposeAllAsync();

        var second = new BackupAppFactory { Database = database };
        var partial = Path.Combine(second.BackupDirectory, "20260301-020000-x", "grafana.tar.zst.1a2b3c4d.partial");
        var upload = Path.Combine(second.BackupDirectory, ".import-0123");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        await File.WriteAllTextAsync(partial, "half an archive");
        Directory.CreateDirectory(upload);
        Directory.SetLastWriteTimeUtc(upload, DateTime.UtcNow.AddHours(-2));
        try
        {
            await second.InitializeAsync();
            await second.ReadyAsync();

            var set = await second.DbAsync(db => db.BackupSets.SingleAsync(s => s.Id == running.Id));
            Assert.Equal(BackupSetStatus.Failed, set.Status);
            Assert.Equal("the portal stopped during the backup", set.Error);
            Assert.False(File.Exists(partial));
            Assert.False(Directory.Exists(upload));
            // The queued job, if it ever runs, does nothing to a failed set.
            using var scope = second.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<BackupJob>().RunAsync(running.Id, CancellationToken.None);
            Assert.Empty(second.Runner.Backups);
        }
        finally
        {
            await second.DisposeAllAsync();
            await TestPostgres.DropDatabaseAsync(database);
        }
    }
}
