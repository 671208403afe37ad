using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Backups.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>The Hangfire jobs with the real engine on a real daemon: round trips, corruption, a full disk, a lost daemon.</summary>
public sealed class BackupEngineJobTests
{
    [Theory]
    [InlineData(BackupMode.Pause, "paused")]
    [InlineData(BackupMode.Stop, "exited")]
    public async Task Three_volumes_of_dependent_services_go_through_the_backup_and_restore_jobs_byte_for_byte(BackupMode mode, string stateWhileReading)
    {
        await using var rig = await BackupRig.CreateAsync();
        var shared = await rig.Project.CreateVolumeAsync("shared");
        await BackupRig.SeedAsync(shared, bigFile: false);
        var (dbData, db) = await rig.VolumeWithServiceAsync("db", "db", bigFile: true, "-v", $"{shared}:/shared");
        var (appData, app) = await rig.VolumeWithServiceAsync("app", "app", bigFile: false,
            "-v", $"{shared}:/shared", "--label", $"{ContainerRecord.DependsOnLabel}=db:service_started:false");
        string[] volumes = [dbData, appData, shared];
        var before = await Task.WhenAll(volumes.Select(BackupRig.FingerprintAsync));
        var portal = new EngineBackupAppFactory(rig.Project.Name);
        try
        {
            await portal.ReadyAsync(volumes);
            var statesWhileReading = new List<string>();
            var hub = portal.Services.GetRequiredService<BackupProgressHub>();
            hub.Changed += () =>
            {
                if (statesWhileReading.Count == 0 && hub.Running.Any(r => r.Step == "Reading"))
                {
                    statesWhileReading.AddRange([BackupRig.StateAsync(db).GetAwaiter().GetResult(), BackupRig.StateAsync(app).GetAwaiter().GetResult()]);
                }
            };
            var (service, scope) = portal.ServiceFor(await portal.UserAsync(PanelRoles.Instructor, "teacher@panel.test"));
            using var _ = scope;

            var id = await service.CreateBackupAsync(volumes, mode);
            var set = await portal.WaitForSetAsync(id, s => s.Status != BackupSetStatus.Running, "finished");

            Assert.True(set.Status == BackupSetStatus.Completed, set.Error);
            Assert.Equal([stateWhileReading, stateWhileReading], statesWhileReading);
            Assert.Equal(volumes.Order(), set.Volumes.Select(v => v.VolumeName).Order());
            foreach (var volume in volumes)
            {
                await BackupRig.ScribbleAsync(volume);
            }

            await service.RestoreAsync(id);
            var restored = await portal.WaitForAuditAsync(BackupAuditActions.RestoreJob, id.ToString());

            Assert.True(restored.Succeeded, restored.Error);
            Assert.Equal("teacher@panel.test", restored.User);
            // The restore's safety backup is in the catalog as soon as the restore is done, without a rescan.
            var safety = Assert.Single(await service.ListSetsAsync(), s => s.Trigger == BackupTrigger.PreRestore);
            Assert.Equal(BackupSetStatus.Completed, safety.Status);
            Assert.Equal("teacher@panel.test", safety.CreatedBy);
            Assert.Equal(volumes.Order(), safety.Volumes.Select(v => v.VolumeName).Order());
            Assert.Equal(before, await Task.WhenAll(volumes.Select(BackupRig.FingerprintAsync)));
            Assert.Equal("running", await BackupRig.StateAsync(db));
            Assert.Equal("running", await BackupRig.StateAsync(app));
            Assert.True(DateTimeOffset.Parse(await BackupRig.StartedAtAsync(db)) < DateTimeOffset.Parse(await BackupRig.StartedAtAsync(app)),
                "db, which app depends on, is started first");
            Assert.Equal("", await rig.HelpersLeftAsync());
            var created = await portal.WaitForAuditAsync(BackupAuditActions.BackupJob, id.ToString());
            Assert.True(created.Succeeded);
            Assert.Equal("teacher@panel.test", created.User);
        }
        finally
        {
            await portal.DisposeAllAsync();
        }
    }

    [Fact]
    public async Task A_failed_verification_marks_the_set_corrupt_which_cannot_be_restored_or_count_as_the_newest_verified()
    {
        await using var rig = await BackupRig.CreateAsync();
        var (volume, _) = await rig.VolumeWithServiceAsync("data", "app");
        var portal = new EngineBackupAppFactory(rig.Project.Name);
        try
        {
            await portal.ReadyAsync(volume);
            var (service, scope) = portal.ServiceFor(await portal.UserAsync(PanelRoles.Instructor, "checker@panel.test"));
            using var _ = scope;
            async Task<Guid> VerifiedSetAsync()
            {
                var id = await service.CreateBackupAsync([volume], BackupMode.Hot);
                await portal.WaitForSetAsync(id, s => s.Status == BackupSetStatus.Completed, "completed");
                await service.VerifyAsync(id, testRestore: false);
                await portal.WaitForSetAsync(id, s => s.Verification == VerificationState.Passed, "verified");
                return id;
            }

            var older = await VerifiedSetAsync();
            var newer = await VerifiedSetAsync();
            var set = await portal.SetAsync(newer);
            var archive = Path.Combine(portal.BackupDirectory, set.Folder, set.Volumes[0].FileName);
            var bytes = await File.ReadAllBytesAsync(archive);
            bytes[^10] ^= 0x01;
            await File.WriteAllBytesAsync(archive, bytes);

            await service.VerifyAsync(newer, testRestore: false);
            var corrupt = await portal.WaitForSetAsync(newer, s => s.Verification == VerificationState.Failed, "verification failed");

            Assert.Equal(BackupSetStatus.Corrupt, corrupt.Status);
            Assert.Contains("SHA-256", corrupt.Error);
            var audited = await portal.WaitForAuditAsync(BackupAuditActions.VerifyJob, newer.ToString(), count: 2);
            Assert.False(audited.Succeeded);
            Assert.Equal("checker@panel.test", audited.User);
            Assert.Contains("SHA-256", audited.Error);
            var refused = await Assert.ThrowsAsync<BackupActionRefusedException>(() => service.RestoreAsync(newer));
            Assert.Contains("corrupt", refused.Message);
            Assert.Contains("SHA-256", refused.Message);
            Assert.Equal(older, await portal.DbAsync(db => BackupRetention.NewestVerifiedAsync(db, CancellationToken.None)));
            Assert.Contains("newest verified", (await Assert.ThrowsAsync<BackupActionRefusedException>(() => service.DeleteAsync(older))).Message);
        }
        finally
        {
            await portal.DisposeAllAsync();
        }
    }

    [Fact]
    public async Task A_backup_that_fills_the_disk_fails_cleanly_naming_the_full_disk()
    {
        await using var rig = await BackupRig.CreateAsync();
        await using var disk = await TmpfsDirectory.MountAsync("8m");
        var (volume, container) = await rig.VolumeWithServiceAsync("data", "app");
        var portal = new EngineBackupAppFactory(rig.Project.Name, disk.Path);
        try
        {
            await portal.ReadyAsync(volume);
            // The pre-check works from the measured size: measured small, then grown past the disk, the copy runs into ENOSPC.
            var measured = await Eventually.ReturnsAsync(() => Task.FromResult(portal.Snapshot.Current.Volumes.Single(v => v.Name == volume).SizeBytes),
                size => size is not null, EngineBackupAppFactory.Wait, "the volume to be measured");
            Assert.True(measured < disk.AvailableBytes, $"measured {measured} bytes, {disk.AvailableBytes} free");
            await BackupRig.InVolumeAsync(volume, "head -c 31457280 /dev/urandom > /d/grown.bin");
            var (service, scope) = portal.ServiceFor(await portal.UserAsync(PanelRoles.Instructor, "filler@panel.test"));
            using var _ = scope;

            var id = await service.CreateBackupAsync([volume], BackupMode.Pause);
            var set = await portal.WaitForSetAsync(id, s => s.Status != BackupSetStatus.Running, "finished");

            Assert.Equal(BackupSetStatus.Failed, set.Status);
            Assert.Contains("backup disk is full", set.Error);
            Assert.Contains(disk.Path, set.Error);
            Assert.DoesNotContain("Not enough room", set.Error);
            Assert.Equal([InflightJournal.FolderName], Directory.EnumerateFileSystemEntries(disk.Path, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(disk.Path, p)));
            Assert.Equal("running", await BackupRig.StateAsync(container));
            Assert.Equal("", await rig.HelpersLeftAsync());
            var audited = await portal.WaitForAuditAsync(BackupAuditActions.BackupJob, id.ToString());
            Assert.False(audited.Succeeded);
            Assert.Equal("filler@panel.test", audited.User);
            Assert.Contains("backup disk is full", audited.Error);
        }
        finally
        {
            await portal.DisposeAllAsync();
        }
    }

    [Fact]
    public async Task The_free_space_check_refuses_a_measured_volume_larger_than_the_disk_with_the_numbers()
    {
        await using var rig = await BackupRig.CreateAsync();
        await using var disk = await TmpfsDirectory.MountAsync("8m");
        var (volume, container) = await rig.VolumeWithServiceAsync("data", "app");
        rig.Snapshot.SetVolumeUsage([new VolumeUsage(volume, 20_000_000, 1, new Dictionary<string, string>())], DateTimeOffset.UtcNow);
        var options = rig.DefaultOptions;
        options.Directory = disk.Path;
        var free = disk.AvailableBytes;

        var refused = await Assert.ThrowsAsync<BackupRefusedException>(() => rig.Runner(options: options).BackupAsync(
            new BackupRequest(Guid.NewGuid(), [volume], BackupMode.Pause, ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None));

        Assert.Contains($"{free:N0} bytes free", refused.Message);
        Assert.Contains("measured 20,000,000 bytes", refused.Message);
        Assert.Contains("Nothing was touched", refused.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(disk.Path));
        Assert.Equal("running", await BackupRig.StateAsync(container));
    }

    [Fact]
    public async Task A_daemon_stopped_mid_backup_fails_the_set_removes_its_files_and_its_containers_run_again_when_the_daemon_is_back()
    {
        await using var daemon = await IsolatedDockerd.StartAsync();
        await TestProject.BuildImageAsync(daemon.Endpoint);
        var project = "gpstop" + Guid.NewGuid().ToString("N")[..8];
        var volume = $"{project}_data";
        Task<string> Docker(params string[] args) => DockerCli.RunAsync(args, daemon.Endpoint);
        await Docker("volume", "create", "--label", $"{ContainerRecord.ProjectLabel}={project}", volume);
        await Docker("run", "--rm", "--network", "none", "-v", $"{volume}:/d", TestProject.Image, "sh", "-c", "head -c 157286400 /dev/urandom > /d/big.bin");
        var container = await Docker("run", "-d", "--network", "none", "--stop-signal", "KILL", "--name", $"{project}-app-1",
            "--label", $"{ContainerRecord.ProjectLabel}={project}", "--label", $"{ContainerRecord.ServiceLabel}=app",
            "-v", $"{volume}:/data", TestProject.Image, "sleep", "3600");
        var portal = new EngineBackupAppFactory(project, dockerEndpoint: daemon.Endpoint);
        try
        {
            await portal.ReadyAsync(volume);
            var hub = portal.Services.GetRequiredService<BackupProgressHub>();
            string? stateAtStop = null;
            var stopped = 0;
            // The stop happens on the copy's own thread at its first bytes, so the copy cannot finish before it.
            hub.Changed += () =>
            {
                if (hub.Running.Any(r => r is { Step: "Reading", Bytes: > 0 }) && Interlocked.Exchange(ref stopped, 1) == 0)
                {
                    stateAtStop = Docker("inspect", "-f", "{{.State.Status}}", container).GetAwaiter().GetResult();
                    daemon.StopAsync().GetAwaiter().GetResult();
                }
            };
            var (service, scope) = portal.ServiceFor(await portal.UserAsync(PanelRoles.Instructor));
            using var _ = scope;

            var id = await service.CreateBackupAsync([volume], BackupMode.Pause);
            var set = await portal.WaitForSetAsync(id, s => s.Status != BackupSetStatus.Running, "finished");

            Assert.Equal("paused", stateAtStop);
            Assert.Equal(BackupSetStatus.Failed, set.Status);
            Assert.False(string.IsNullOrWhiteSpace(set.Error));
            var journal = Assert.Single(Directory.GetFiles(Path.Combine(portal.BackupDirectory, InflightJournal.FolderName)));
            Assert.Equal([InflightJournal.FolderName], Directory.GetFileSystemEntries(portal.BackupDirectory).Select(Path.GetFileName));

            await daemon.StartAgainAsync();

            await Eventually.ReturnsAsync(() => Docker("inspect", "-f", "{{.State.Status}}", container), s => s == "running",
                EngineBackupAppFactory.Wait, "the container to run again");
            await Eventually.HoldsAsync(() => !File.Exists(journal), EngineBackupAppFactory.Wait, "the journal to be done with");
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(portal.BackupDirectory, InflightJournal.FolderName)));
            Assert.Equal(BackupSetStatus.Failed, (await portal.SetAsync(id)).Status);
        }
        finally
        {
            await portal.DisposeAllAsync();
        }
    }
}
