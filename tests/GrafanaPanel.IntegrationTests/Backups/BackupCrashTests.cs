using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Backups.Jobs;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>
/// The portal as a process of its own, killed with SIGKILL in the middle of a backup or a restore, then started again
/// on the same database and backup directory: the next start must leave nothing half-done.
/// </summary>
public sealed class BackupCrashTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private BackupRig _rig = null!;
    private string _database = "";
    private string _directory = "";

    public async ValueTask InitializeAsync()
    {
        _rig = await BackupRig.CreateAsync();
        _database = await TestPostgres.CreateDatabaseAsync();
        _directory = Directory.CreateTempSubdirectory("gp-crash-").FullName;
    }

    public async ValueTask DisposeAsync()
    {
        await _rig.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
        Directory.Delete(_directory, recursive: true);
    }

    private Task<PortalProcess> StartPortalAsync() =>
        PortalProcess.StartAsync(_database, new Dictionary<string, string>
        {
            ["Stack:ProjectName"] = _rig.Project.Name,
            ["Backups:Directory"] = _directory,
            ["Backups:HelperImage"] = TestProject.Image,
            ["Backups:FreeSpaceMarginBytes"] = "0",
            ["Backups:RecoveryInterval"] = "00:00:01",
        });

    [Fact]
    public async Task A_portal_killed_mid_backup_leaves_a_failed_set_no_files_and_running_containers_after_the_next_start()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app", bigFile: true);
        await BackupRig.InVolumeAsync(volume, "head -c 209715200 /dev/urandom > /d/bigger.bin");
        // An archive's temporary file (the journal is written through one too, before anything is paused).
        using var partial = new FileCreated(_directory, "*.tar.zst.*.partial");
        var id = Guid.Empty;
        await using (var portal = await StartPortalAsync())
        {
            await portal.WaitForServicesAsync(1);
            id = await EnqueueBackupAsync(volume, "killer@panel.test");

            await partial.Happened.WaitAsync(Wait);
            await portal.KillAsync();
        }

        // Killed mid-copy: the container paused, the journal and a temporary archive on disk.
        Assert.Equal("paused", await BackupRig.StateAsync(container));
        Assert.True(File.Exists(InflightJournal.PathFor(_directory, id)));
        Assert.NotEmpty(Directory.GetFiles(_directory, "*.partial", SearchOption.AllDirectories));

        await using (await StartPortalAsync())
        {
            await Eventually.ReturnsAsync(() => BackupRig.StateAsync(container), s => s == "running", Wait, "the container to be unpaused");
            var set = await Eventually.ReturnsAsync(() => SetAsync(id), s => s.Status == BackupSetStatus.Failed, Wait, "the set to be marked failed");
            Assert.Equal(BackupJobsStartup.StoppedDuringBackup, set.Error);
            await Eventually.ReturnsAsync(() => Task.FromResult(FilesOnDisk()), f => f.SequenceEqual([InflightJournal.FolderName]), Wait,
                "only the empty journal folder to be left");
            var audited = await Eventually.ReturnsAsync(() => AuditAsync(BackupAuditActions.BackupJob), a => a.Count > 0, Wait, "the audit entry");
            Assert.False(Assert.Single(audited).Succeeded);
            Assert.Equal("killer@panel.test", audited[0].User);
            Assert.Equal("", await _rig.HelpersLeftAsync());
        }
    }

    [Fact]
    public async Task A_portal_killed_mid_restore_is_rolled_back_to_the_safety_backup_and_its_services_started_at_the_next_start()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app", bigFile: true);
        await using (var portal = await StartPortalAsync())
        {
            await portal.WaitForServicesAsync(1);
            var id = await EnqueueBackupAsync(volume, "teacher@panel.test");
            await Eventually.ReturnsAsync(() => SetAsync(id), s => s.Status == BackupSetStatus.Completed, Wait, "the backup to complete");
            await BackupRig.ScribbleAsync(volume);
            var before = await BackupRig.FingerprintAsync(volume);
            // The first helper to exit checked the room (read-only, before anything was stopped); the second is the one that
            // moved the old content aside: from then on the volume is half-restored.
            await using var emptied = DockerEvents.Follow("event=die", "label=grafana-panel.helper=true", $"label={ContainerRecord.ProjectLabel}={_rig.Project.Name}");
            Jobs().Enqueue<RestoreJob>(job => job.RunAsync(id, null, null, "teacher@panel.test", CancellationToken.None));

            await emptied.Nth(2).WaitAsync(Wait);
            await portal.KillAsync();

            var journal = JsonSerializer.Deserialize<InflightJournal>(
                await File.ReadAllTextAsync(InflightJournal.PathFor(_directory, id)), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            Assert.Equal(InflightJournal.RestoreOperation, journal.Operation);
            Assert.NotNull(journal.SafetyFolder);
            Assert.Equal("exited", await BackupRig.StateAsync(container));
            Assert.NotEqual(before, await BackupRig.FingerprintAsync(volume));

            await using (await StartPortalAsync())
            {
                await Eventually.HoldsAsync(() => !File.Exists(InflightJournal.PathFor(_directory, id)), Wait, "recovery to finish the journal");
                Assert.Equal(before, await BackupRig.FingerprintAsync(volume));
                Assert.Equal("running", await BackupRig.StateAsync(container));
                var audited = await Eventually.ReturnsAsync(() => AuditAsync(BackupAuditActions.RestoreJob), a => a.Count > 0, Wait, "the audit entry");
                Assert.False(Assert.Single(audited).Succeeded);
                Assert.Equal(BackupAuditActions.SystemUser, audited[0].User);
                Assert.Contains("rolled them back", audited[0].Error);
                Assert.Contains(Path.GetFileName(journal.SafetyFolder), audited[0].Error);
            }
        }
    }

    /// <summary>As <see cref="BackupService.CreateBackupAsync"/> does: a Running set in the catalog and its job queued.</summary>
    private async Task<Guid> EnqueueBackupAsync(string volume, string user)
    {
        var set = BackupSet.NewRunning([volume], BackupMode.Pause, BackupTrigger.Manual, user, scheduleId: null);
        await using (var db = Db())
        {
            db.BackupSets.Add(set);
            await db.SaveChangesAsync();
        }

        var id = set.Id;
        Jobs().Enqueue<BackupJob>(job => job.RunAsync(id, CancellationToken.None));
        return id;
    }

    private PanelDbContext Db() => new(new DbContextOptionsBuilder<PanelDbContext>().UseNpgsql(_database).Options);

    private IBackgroundJobClient Jobs()
    {
        var options = new PostgreSqlStorageOptions { SchemaName = DatabaseInitializer.HangfireSchema, PrepareSchemaIfNecessary = false };
        return new BackgroundJobClient(new PostgreSqlStorage(new NpgsqlConnectionFactory(_database, options), options));
    }

    private async Task<BackupSet> SetAsync(Guid id)
    {
        await using var db = Db();
        return await db.BackupSets.AsNoTracking().SingleAsync(s => s.Id == id);
    }

    private async Task<List<AuditEntry>> AuditAsync(string action)
    {
        await using var db = Db();
        return await db.AuditEntries.AsNoTracking().Where(e => e.Action == action).OrderBy(e => e.Id).ToListAsync();
    }

    private List<string> FilesOnDisk() =>
        [.. Directory.EnumerateFileSystemEntries(_directory, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(_directory, p)).Order()];

    /// <summary>The first file matching a pattern created anywhere under a folder (inotify, no polling).</summary>
    private sealed class FileCreated : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly TaskCompletionSource<string> _happened = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public FileCreated(string directory, string pattern)
        {
            _watcher = new FileSystemWatcher(directory, pattern) { IncludeSubdirectories = true };
            _watcher.Created += (_, e) => _happened.TrySetResult(e.FullPath);
            _watcher.EnableRaisingEvents = true;
        }

        public Task<string> Happened => _happened.Task;

        public void Dispose() => _watcher.Dispose();
    }
}
