using GrafanaPanel.Web.Features.Backups.Volumes;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary><see cref="BackupRunner"/> against the real daemon: round trips, refusals, failures, rollback.</summary>
public sealed class BackupRunnerTests : IAsyncLifetime
{
    private BackupRig _rig = null!;

    public async ValueTask InitializeAsync() => _rig = await BackupRig.CreateAsync();

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Theory]
    [InlineData(BackupMode.Pause, "paused")]
    [InlineData(BackupMode.Stop, "exited")]
    [InlineData(BackupMode.Hot, "running")]
    public async Task Backup_then_restore_in_place_gives_back_the_volume_byte_for_byte(BackupMode mode, string stateWhileReading)
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app", bigFile: true);
        var before = await BackupRig.FingerprintAsync(volume);
        var statesWhileReading = new List<string>();
        var progress = new SyncProgress(p =>
        {
            if (p.Step == "Reading" && p.Bytes == 0)
            {
                statesWhileReading.Add(BackupRig.StateAsync(container).GetAwaiter().GetResult());
            }
        });

        var backup = await _rig.Runner().BackupAsync(
            new BackupRequest(Guid.NewGuid(), [volume], mode, ArchiveCompression.Zstd, BackupTrigger.Manual), progress, CancellationToken.None);

        Assert.Equal([stateWhileReading], statesWhileReading);
        Assert.Equal("running", await BackupRig.StateAsync(container));
        var recorded = Assert.Single(backup.Manifest.Volumes);
        Assert.Equal(volume, recorded.Name);
        Assert.Equal(["app"], recorded.Services);
        Assert.Equal([TestProject.Image], recorded.Images);
        Assert.True(recorded.EntryCount > 2000, $"{recorded.EntryCount} entries");
        Assert.True(File.Exists(Path.Combine(backup.Folder, BackupManifest.FileName)));
        Assert.DoesNotContain(_rig.FilesOnDisk(), f => f.StartsWith(InflightJournal.FolderName + "/", StringComparison.Ordinal));

        await BackupRig.ScribbleAsync(volume);
        Assert.NotEqual(before, await BackupRig.FingerprintAsync(volume));

        var restored = await _rig.Runner().RestoreAsync(new RestoreRequest(backup.Folder), null, CancellationToken.None);

        Assert.Equal(before, await BackupRig.FingerprintAsync(volume));
        Assert.Equal([volume], restored.Volumes);
        Assert.NotNull(restored.SafetyBackupSetId);
        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal("", await _rig.HelpersLeftAsync());
        Assert.Null(_rig.Lock.Holder);
    }

    [Fact]
    public async Task A_stop_mode_backup_starts_services_again_in_dependency_order()
    {
        // "zdb" sorts after "app", so only the depends_on label can put it first.
        var (volume, zdb) = await _rig.VolumeWithServiceAsync("shared", "zdb");
        var app = await _rig.Project.RunAsync("app",
            ["--stop-signal", "KILL", "-v", $"{volume}:/data", "--label", $"{ContainerRecord.DependsOnLabel}=zdb:service_healthy:false"], "sleep", "600");
        await TestProject.WaitForStatusAsync(app, "running");
        await _rig.RefreshAsync();

        await _rig.Runner().BackupAsync(new BackupRequest(Guid.NewGuid(), [volume], BackupMode.Stop, ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None);

        var zdbStarted = DateTimeOffset.Parse(await BackupRig.StartedAtAsync(zdb));
        var appStarted = DateTimeOffset.Parse(await BackupRig.StartedAtAsync(app));
        Assert.True(zdbStarted < appStarted, $"zdb started at {zdbStarted:O}, app (which depends on it) at {appStarted:O}");
        var zdbStopped = DateTimeOffset.Parse(await DockerCli.RunAsync("inspect", "-f", "{{.State.FinishedAt}}", zdb));
        var appStopped = DateTimeOffset.Parse(await DockerCli.RunAsync("inspect", "-f", "{{.State.FinishedAt}}", app));
        Assert.True(appStopped <= zdbStopped, $"app stopped at {appStopped:O}, zdb at {zdbStopped:O}");
    }

    [Fact]
    public async Task Backup_cancelled_mid_read_leaves_containers_running_and_nothing_that_looks_like_a_set()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app", bigFile: true);
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Step == "Reading" && p.Bytes > 0)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _rig.Runner().BackupAsync(
            new BackupRequest(Guid.NewGuid(), [volume], BackupMode.Pause, ArchiveCompression.Zstd, BackupTrigger.Manual), progress, cancel.Token));

        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal([InflightJournal.FolderName], _rig.FilesOnDisk());
        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    [Fact]
    public async Task Restore_refuses_a_flipped_byte_before_the_volume_or_its_service_is_touched()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var backup = await _rig.BackupAsync(volume, BackupMode.Pause);
        await BackupRig.FlipBitAsync(backup, ^100, 0x40);
        await BackupRig.ScribbleAsync(volume);
        var scribbled = await BackupRig.FingerprintAsync(volume);
        var startedAt = await BackupRig.StartedAtAsync(container);

        var refused = await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(backup.Folder), null, CancellationToken.None));

        Assert.Contains("SHA-256", refused.Message);
        Assert.Equal(scribbled, await BackupRig.FingerprintAsync(volume));
        Assert.Equal(startedAt, await BackupRig.StartedAtAsync(container));
        Assert.Single(Directory.EnumerateDirectories(_rig.Directory), d => !d.EndsWith(InflightJournal.FolderName, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restore_that_fails_its_check_rolls_back_to_the_safety_backup_and_restarts_the_service()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var backup = await _rig.BackupAsync(volume, BackupMode.Stop, ArchiveCompression.Gzip);
        await BackupRig.ScribbleAsync(volume);
        var before = await BackupRig.FingerprintAsync(volume);

        var failed = await Assert.ThrowsAsync<ReplacementFailedException>(() =>
            _rig.Runner(new FailsOnce()).RestoreAsync(new RestoreRequest(backup.Folder), null, CancellationToken.None));

        Assert.True(failed.RolledBack);
        Assert.Contains("rolled back", failed.Message);
        Assert.Equal(before, await BackupRig.FingerprintAsync(volume));
        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal("", await _rig.HelpersLeftAsync());
        Assert.Null(_rig.Lock.Holder);
    }

    [Fact]
    public async Task A_restore_without_safety_backup_whose_upload_fails_puts_the_old_content_back()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var backup = await _rig.BackupAsync(volume, BackupMode.Hot);
        await BackupRig.ScribbleAsync(volume);
        var scribbled = await BackupRig.FingerprintAsync(volume);
        var archive = Path.Combine(backup.Folder, Assert.Single(backup.Manifest.Volumes).ArchiveFile);
        // The archive changes after it was checked (another process appends to it), so the upload is refused after
        // the old content was moved aside.
        var progress = new SyncProgress(p =>
        {
            if (p.Step == "Writing")
            {
                File.AppendAllText(archive, "tampered");
            }
        });

        var failed = await Assert.ThrowsAsync<OldContentPutBackException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(backup.Folder, SafetyBackup: false), progress, CancellationToken.None));

        Assert.Equal(volume, failed.Volume);
        Assert.Contains("changed after it was validated", failed.Message);
        Assert.Contains("previous content put back", failed.Message);
        Assert.Equal(scribbled, await BackupRig.FingerprintAsync(volume));
        Assert.DoesNotContain(VolumeContent.TrashPrefix, await BackupRig.InVolumeAsync(volume, "ls -A /d", readOnly: true));
        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_intact_archive_with_an_unsafe_entry_is_refused_during_the_upload_and_what_it_wrote_is_removed(bool safetyBackup)
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var backup = await _rig.BackupAsync(volume, BackupMode.Hot);
        // Its hash and size are the manifest's, so the check before stopping passes; the walk during the upload refuses.
        var unsafeSet = await BackupRig.WithSetuidFileAtTheEndAsync(backup, _rig.Directory);
        await BackupRig.ScribbleAsync(volume);
        var scribbled = await BackupRig.FingerprintAsync(volume);

        var failed = await Assert.ThrowsAnyAsync<Exception>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(unsafeSet, SafetyBackup: safetyBackup), null, CancellationToken.None));

        var refusal = Assert.IsType<UnsafeArchiveException>(safetyBackup ? failed.InnerException?.InnerException : failed.InnerException);
        Assert.Equal(TarRule.SetuidSetgid, refusal.Rule);
        if (safetyBackup)
        {
            Assert.True(Assert.IsType<ReplacementFailedException>(failed).RolledBack);
        }
        else
        {
            Assert.IsType<OldContentPutBackException>(failed);
        }

        Assert.Equal(scribbled, await BackupRig.FingerprintAsync(volume));
        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    [Theory]
    [InlineData("1", "0")]
    [InlineData("999999999999999999", "10")]
    public async Task The_move_aside_step_keeps_the_old_content_when_there_is_room_and_empties_the_volume_when_not(string needed, string exit)
    {
        var (volume, _) = await _rig.VolumeWithServiceAsync("data", "app");
        var before = await BackupRig.FingerprintAsync(volume);
        const string trash = VolumeContent.TrashPrefix + "test";

        var result = await DockerCli.RunAsync("run", "--rm", "--network", "none", "-v", $"{volume}:/v/data", TestProject.Image,
            "sh", "-c", "sh -c \"$1\" \"$2\" /v/data \"$3\"; echo \"exit=$?\"", "run", VolumeScripts.MoveAside, "/v/data/" + trash, needed);

        Assert.Equal("exit=" + exit, result);
        if (exit == "0")
        {
            Assert.Equal(trash, await BackupRig.InVolumeAsync(volume, "ls -A /d", readOnly: true));
            Assert.Equal(BackupRig.BelowTop(before), BackupRig.BelowTop(await BackupRig.FingerprintAsync(volume, trash)));
        }
        else
        {
            Assert.Equal("", await BackupRig.InVolumeAsync(volume, "ls -A /d", readOnly: true));
        }
    }

    [Fact]
    public async Task The_listing_counts_what_the_daemon_s_tar_holds_and_leaves_out_the_folder_it_is_told_to()
    {
        // Hard links (counted once in the bytes), symlinks, an empty file, a sticky folder, a folder only its owner may read.
        var (volume, _) = await _rig.VolumeWithServiceAsync("data", "app");
        await BackupRig.InVolumeAsync(volume, "touch /d/empty && ln /d/sticky/long.txt /d/a/b/long-link");
        var backup = await _rig.BackupAsync(volume, BackupMode.Hot);
        var archive = await ArchiveVerifier.ValidateAsync(backup.Folder, backup.Manifest, Assert.Single(backup.Manifest.Volumes), CancellationToken.None);
        const string kept = VolumeContent.TrashPrefix + "listed";
        await BackupRig.InVolumeAsync(volume, $"mkdir -p /d/{kept}/x && echo old > /d/{kept}/x/old.txt");

        var whole = await DockerCli.RunAsync("run", "--rm", "--network", "none", "-v", $"{volume}:/v/data:ro", TestProject.Image,
            "sh", "-c", VolumeScripts.Listing, "list", "/v/data", "");
        var leftOut = await DockerCli.RunAsync("run", "--rm", "--network", "none", "-v", $"{volume}:/v/data:ro", TestProject.Image,
            "sh", "-c", VolumeScripts.Listing, "list", "/v/data", "/v/data/" + kept);

        Assert.Equal($"{archive.Summary.EntryCount} {archive.Summary.FileBytes}", leftOut);
        Assert.Equal($"{archive.Summary.EntryCount + 3} {archive.Summary.FileBytes + 4}", whole);
        Assert.Null(new ManifestRestoredVolumeCheck().Compare(archive, new VolumeListing(archive.Summary.EntryCount, archive.Summary.FileBytes)));
        Assert.Contains("now holds", new ManifestRestoredVolumeCheck().Compare(archive, new VolumeListing(archive.Summary.EntryCount, archive.Summary.FileBytes - 1)));
        Assert.Contains("now holds", new ManifestRestoredVolumeCheck().Compare(archive, new VolumeListing(archive.Summary.EntryCount - 1, archive.Summary.FileBytes)));
    }

    [Fact]
    public async Task Restore_into_a_new_volume_and_test_restore_verification_match_the_original()
    {
        var (volume, _) = await _rig.VolumeWithServiceAsync("data", "app");
        var before = await BackupRig.FingerprintAsync(volume);
        var backup = await _rig.BackupAsync(volume, BackupMode.Hot);
        var copy = _rig.Project.Name + "_copy";

        var restored = await _rig.Runner().RestoreAsync(new RestoreRequest(backup.Folder, IntoNewVolume: copy), null, CancellationToken.None);
        var verified = await _rig.Runner().VerifyAsync(Path.GetFileName(backup.Folder), testRestore: true, null, CancellationToken.None);

        Assert.Equal([copy], restored.Volumes);
        Assert.Equal(before, await BackupRig.FingerprintAsync(copy));
        Assert.True(verified.Passed, verified.Message);
        Assert.Contains("test-restored", verified.Message);
        Assert.Equal(2, (await DockerCli.RunAsync("volume", "ls", "-q", "--filter", $"label=com.docker.compose.project={_rig.Project.Name}")).Split('\n').Length);
        await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(backup.Folder, IntoNewVolume: copy), null, CancellationToken.None));
        await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(backup.Folder, IntoNewVolume: "../etc"), null, CancellationToken.None));
    }

    [Fact]
    public async Task Verify_reports_a_flipped_byte()
    {
        var (volume, _) = await _rig.VolumeWithServiceAsync("data", "app");
        var backup = await _rig.BackupAsync(volume, BackupMode.Hot);
        await BackupRig.FlipBitAsync(backup, ^10, 0x01);

        var verified = await _rig.Runner().VerifyAsync(backup.Folder, testRestore: false, null, CancellationToken.None);

        Assert.False(verified.Passed);
        Assert.Contains("SHA-256", verified.Message);
    }

    [Fact]
    public async Task The_portals_own_volume_an_unknown_volume_and_a_set_outside_the_directory_are_refused()
    {
        var portalVolume = await _rig.Project.CreateVolumeAsync("portal-db");
        await _rig.Project.RunAsync("portal-db", ["--label", "grafana-panel.role=database", "-v", $"{portalVolume}:/data"], "sleep", "600");
        await _rig.RefreshAsync();

        var portal = await Assert.ThrowsAsync<BackupRefusedException>(() => _rig.Runner().BackupAsync(
            new BackupRequest(Guid.NewGuid(), [portalVolume], BackupMode.Pause, ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<BackupRefusedException>(() => _rig.Runner().BackupAsync(
            new BackupRequest(Guid.NewGuid(), ["../grafana"], BackupMode.Pause, ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None));
        var outside = await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest("/etc"), null, CancellationToken.None));

        Assert.Contains("portal", portal.Message);
        Assert.Contains("not a volume of stack", unknown.Message);
        Assert.Contains("not a set folder", outside.Message);
        Assert.Empty(_rig.FilesOnDisk());
        Assert.Equal("running", await BackupRig.StateAsync($"{_rig.Project.Name}-portal-db-1"));
    }

    [Fact]
    public async Task Backup_is_refused_with_the_numbers_when_the_disk_has_no_room()
    {
        var (volume, _) = await _rig.VolumeWithServiceAsync("data", "app");
        var options = _rig.DefaultOptions;
        options.FreeSpaceMarginBytes = long.MaxValue / 2;

        var refused = await Assert.ThrowsAsync<BackupRefusedException>(() => _rig.Runner(options: options).BackupAsync(
            new BackupRequest(Guid.NewGuid(), [volume], BackupMode.Pause, ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None));

        Assert.Contains("bytes free", refused.Message);
        Assert.Contains($"{long.MaxValue / 2:N0}", refused.Message);
        Assert.Empty(_rig.FilesOnDisk());
    }

    [Fact]
    public async Task Recovery_after_a_crash_resumes_paused_containers_and_removes_helpers_journals_and_partials()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var setId = Guid.NewGuid();
        var folder = Path.Combine(_rig.Directory, "20260101-000000-" + setId.ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "x.tar.zst.1234abcd.partial"), "cut off");
        await new InflightJournal(setId, JournalOperation.Backup, folder, [container], [], DateTimeOffset.UtcNow).WriteAsync(_rig.Directory, CancellationToken.None);
        // The process that wrote it is gone: no running operation owns the journal.
        InflightJournal.Release(_rig.Directory, setId, delete: false);
        await DockerCli.RunAsync("pause", container);
        var helper = await _rig.Engine.CreateHelperContainerAsync(
            new HelperContainerSpec(_rig.Project.Name, TestProject.Image, [new HelperVolumeMount(volume, "/v/" + volume, true)], ["true"]), CancellationToken.None);

        var report = await _rig.Recovery().RecoverAsync(CancellationToken.None);

        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal([container], report.ResumedContainers);
        Assert.Equal([helper], report.RemovedHelpers);
        Assert.Equal(setId, Assert.Single(report.InterruptedSets).SetId);
        Assert.Single(report.DeletedPartials);
        Assert.Empty(report.Problems);
        Assert.Equal([InflightJournal.FolderName], _rig.FilesOnDisk());
        Assert.Equal("", await _rig.HelpersLeftAsync());

        var again = await _rig.Recovery().RecoverAsync(CancellationToken.None);
        Assert.True(again.NothingToDo);
    }

    [Fact]
    public async Task A_helper_container_has_only_the_asked_volume_no_binds_no_privileges_no_network_and_the_label()
    {
        var (volume, _) = await _rig.VolumeWithServiceAsync("data", "app");

        var helper = await _rig.Engine.CreateHelperContainerAsync(
            new HelperContainerSpec(_rig.Project.Name, TestProject.Image, [new HelperVolumeMount(volume, "/v/" + volume, true)], ["true"]), CancellationToken.None);

        using var inspected = JsonDocument.Parse(await DockerCli.RunAsync("inspect", helper));
        var root = inspected.RootElement[0];
        var host = root.GetProperty("HostConfig");
        Assert.Equal(JsonValueKind.Null, host.GetProperty("Binds").ValueKind);
        Assert.False(host.GetProperty("Privileged").GetBoolean());
        Assert.Equal("none", host.GetProperty("NetworkMode").GetString());
        Assert.Equal(["ALL"], host.GetProperty("CapDrop").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(JsonValueKind.Null, host.GetProperty("CapAdd").ValueKind);
        Assert.Equal("", host.GetProperty("PidMode").GetString());
        Assert.Equal(JsonValueKind.Null, host.GetProperty("Devices").ValueKind);
        var mount = Assert.Single(root.GetProperty("Mounts").EnumerateArray());
        Assert.Equal("volume", mount.GetProperty("Type").GetString());
        Assert.Equal(volume, mount.GetProperty("Name").GetString());
        Assert.Equal("/v/" + volume, mount.GetProperty("Destination").GetString());
        Assert.False(mount.GetProperty("RW").GetBoolean());
        Assert.Equal("true", root.GetProperty("Config").GetProperty("Labels").GetProperty("grafana-panel.helper").GetString());
        Assert.Equal("created", root.GetProperty("State").GetProperty("Status").GetString());
    }

    [Fact]
    public async Task A_helper_body_with_a_host_path_or_a_bind_is_refused_before_the_daemon_sees_it()
    {
        await Assert.ThrowsAsync<UnsafeHelperContainerException>(() => _rig.Engine.CreateHelperContainerAsync(
            new HelperContainerSpec(_rig.Project.Name, TestProject.Image, [new HelperVolumeMount("/etc", "/v/etc", true)], ["true"]), CancellationToken.None));
        await Assert.ThrowsAsync<UnsafeHelperContainerException>(() => _rig.Engine.CreateHelperContainerAsync(
            new HelperContainerSpec(_rig.Project.Name, TestProject.Image, [new HelperVolumeMount("x_data", "/etc", false)], ["true"]), CancellationToken.None));

        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    /// <summary>Runs the real comparison, but reports a mismatch the first time: the restore fails after it replaced
    /// the volume's content, and the rollback (second call) is checked for real.</summary>
    private sealed class FailsOnce : IRestoredVolumeCheck
    {
        private int _calls;

        public string? Compare(ValidatedArchive expected, VolumeListing actual) =>
            Interlocked.Increment(ref _calls) == 1 ? "made to fail by the test" : new ManifestRestoredVolumeCheck().Compare(expected, actual);
    }
}
