using GrafanaPanel.Web.Features.Backups.Volumes;
using System.Globalization;
using System.Text.Json.Nodes;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>
/// The backup engine against what a learner or a doctored set could try: the portal's own volumes (by label, whatever
/// the snapshot says), a stale snapshot, a set too large for Docker's volume storage, a manifest naming an image.
/// </summary>
public sealed class BackupSafetyTests : IAsyncLifetime
{
    private BackupRig _rig = default!;

    public async ValueTask InitializeAsync() => _rig = await BackupRig.CreateAsync();

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task A_volume_labelled_as_the_portals_is_refused_by_backup_restore_rollback_and_the_engine_though_the_snapshot_shows_a_lab_volume()
    {
        // A lab service (no portal label on the container) uses it, so the snapshot lists it like any lab volume.
        var labelled = await _rig.Project.CreateVolumeAsync("portal_data", labels: [("grafana-panel.role", "portal")]);
        await BackupRig.SeedAsync(labelled, bigFile: false);
        var user = await _rig.Project.RunAsync("app", ["--stop-signal", "KILL", "-v", $"{labelled}:/data"], "sleep", "600");
        await _rig.RefreshAsync();
        Assert.Contains(_rig.Snapshot.Current.Volumes, v => v.Name == labelled);
        var before = await BackupRig.FingerprintAsync(labelled);
        var startedAt = await BackupRig.StartedAtAsync(user);

        var backup = await Assert.ThrowsAsync<BackupRefusedException>(() => _rig.Runner().BackupAsync(
            new BackupRequest(Guid.NewGuid(), [labelled], BackupMode.Stop, ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None));
        Assert.Contains("grafana-panel.role=portal", backup.Message);
        Assert.Empty(_rig.FilesOnDisk());

        // A set of another volume, its manifest doctored to name the labelled one.
        var (other, _) = await _rig.VolumeWithServiceAsync("other", "other");
        var set = await _rig.BackupAsync(other, BackupMode.Hot);
        var doctored = await DoctoredCopyAsync(set, volume => volume["name"] = labelled);

        var restore = await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(doctored), null, CancellationToken.None));
        var rollback = await Assert.ThrowsAsync<PortalVolumeRefusedException>(() => _rig.Runner().RollBackAsync(doctored, CancellationToken.None));
        var engine = await Assert.ThrowsAsync<PortalVolumeRefusedException>(() => _rig.Engine.CreateHelperContainerAsync(
            new HelperContainerSpec(_rig.Project.Name, TestProject.Image, [new HelperVolumeMount(labelled, "/v/" + labelled, ReadOnly: true)], ["true"]),
            CancellationToken.None));

        Assert.Contains("grafana-panel.role=portal", restore.Message);
        Assert.Contains("grafana-panel.role=portal", rollback.Message);
        Assert.Equal(labelled, engine.Volume);
        Assert.Equal(before, await BackupRig.FingerprintAsync(labelled));
        Assert.Equal(startedAt, await BackupRig.StartedAtAsync(user));
        Assert.Equal("running", await BackupRig.StateAsync(user));
        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    [Fact]
    public async Task A_helper_never_mounts_a_volume_that_does_not_exist()
    {
        var missing = _rig.Project.Name + "_never_created";

        var refused = await Assert.ThrowsAsync<PortalVolumeRefusedException>(() => _rig.Engine.CreateHelperContainerAsync(
            new HelperContainerSpec(_rig.Project.Name, TestProject.Image, [new HelperVolumeMount(missing, "/v/" + missing, ReadOnly: true)], ["true"]),
            CancellationToken.None));

        Assert.Contains("does not exist", refused.Message);
        Assert.False(await _rig.Engine.VolumeExistsAsync(missing, CancellationToken.None));
        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    [Fact]
    public async Task A_restore_is_refused_while_the_snapshot_is_stale_or_not_read_yet_and_nothing_is_touched()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var set = await _rig.BackupAsync(volume, BackupMode.Hot);
        await BackupRig.ScribbleAsync(volume);
        var scribbled = await BackupRig.FingerprintAsync(volume);
        var startedAt = await BackupRig.StartedAtAsync(container);
        _rig.Snapshot.MarkStale("the engine stopped answering (test)");
        var neverRead = new BackupRunner(_rig.Engine, new StackSnapshot(Options.Create(new StackOptions { ProjectName = _rig.Project.Name }), TimeProvider.System),
            _rig.Lock, Options.Create(_rig.DefaultOptions), Options.Create(new StackOptions { ProjectName = _rig.Project.Name }), TimeProvider.System,
            NullLogger<BackupRunner>.Instance);

        var stale = await Assert.ThrowsAsync<BackupRefusedException>(() => _rig.Runner().RestoreAsync(new RestoreRequest(set.Folder), null, CancellationToken.None));
        var intoNew = await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(set.Folder, IntoNewVolume: _rig.Project.Name + "_copy"), null, CancellationToken.None));
        var unread = await Assert.ThrowsAsync<BackupRefusedException>(() => neverRead.RestoreAsync(new RestoreRequest(set.Folder), null, CancellationToken.None));

        Assert.Contains("the engine stopped answering (test)", stale.Message);
        Assert.Contains("Nothing was restored", stale.Message);
        Assert.Contains("the engine stopped answering (test)", intoNew.Message);
        Assert.Contains("has not been read yet", unread.Message);
        Assert.Equal(scribbled, await BackupRig.FingerprintAsync(volume));
        Assert.Equal(startedAt, await BackupRig.StartedAtAsync(container));
        Assert.False(await _rig.Engine.VolumeExistsAsync(_rig.Project.Name + "_copy", CancellationToken.None));
    }

    [Fact]
    public async Task A_restore_that_Docker_s_volume_storage_cannot_hold_is_refused_with_the_numbers_before_anything_is_stopped()
    {
        // 6 MiB of noise backed up from an ordinary volume ...
        var (big, _) = await _rig.VolumeWithServiceAsync("big", "big");
        await BackupRig.InVolumeAsync(big, "head -c 6291456 /dev/urandom > /d/noise.bin");
        var set = await _rig.BackupAsync(big, BackupMode.Hot);
        // ... into a volume on a 4 MiB tmpfs, kept mounted (and its content alive) by the service that uses it.
        var small = await _rig.Project.CreateVolumeAsync("small", driverOptions: ["type=tmpfs", "device=tmpfs", "o=size=4m"]);
        var user = await _rig.Project.RunAsync("small", ["--stop-signal", "KILL", "-v", $"{small}:/data"], "sleep", "600");
        await BackupRig.InVolumeAsync(small, "echo kept > /d/kept.txt && head -c 1048576 /dev/urandom > /d/one.bin");
        await _rig.RefreshAsync();
        var before = await BackupRig.FingerprintAsync(small);
        var startedAt = await BackupRig.StartedAtAsync(user);
        var doctored = await DoctoredCopyAsync(set, volume => volume["name"] = small);
        var tarBytes = set.Manifest.Volumes[0].TarBytes;

        var refused = await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(doctored), null, CancellationToken.None));

        Assert.Contains($"Volume {small} needs at least {tarBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes", refused.Message);
        Assert.Matches(@"has [0-9,]+ bytes free there and the volume's current content takes [0-9,]+ bytes", refused.Message);
        Assert.Contains("Nothing was restored, stopped or emptied", refused.Message);
        Assert.Equal(before, await BackupRig.FingerprintAsync(small));
        Assert.Equal(startedAt, await BackupRig.StartedAtAsync(user));
        Assert.Equal("running", await BackupRig.StateAsync(user));
        Assert.Equal("", await _rig.HelpersLeftAsync());
        // No safety backup was taken either: the only set is the one restored from (and its doctored copy).
        Assert.Equal(2, Directory.GetDirectories(_rig.Directory).Count(d => !Path.GetFileName(d).StartsWith('.')));
    }

    [Fact]
    public async Task The_move_aside_step_touches_nothing_when_even_the_emptied_volume_could_not_hold_the_new_content()
    {
        var small = await _rig.Project.CreateVolumeAsync("small", driverOptions: ["type=tmpfs", "device=tmpfs", "o=size=4m"]);
        var user = await _rig.Project.RunAsync("small", ["--stop-signal", "KILL", "-v", $"{small}:/data"], "sleep", "600");
        await BackupRig.InVolumeAsync(small, "echo kept > /d/kept.txt");
        var before = await BackupRig.FingerprintAsync(small);

        var result = await DockerCli.RunAsync("run", "--rm", "--network", "none", "-v", $"{small}:/v/data", TestProject.Image,
            "sh", "-c", "sh -c \"$1\" \"$2\" /v/data \"$3\" \"$4\"; echo \"exit=$?\"", "run", VolumeScripts.MoveAside,
            "/v/data/" + VolumeContent.TrashPrefix + "test", "8388608", "8388608");

        Assert.Equal("exit=" + VolumeScripts.NoRoomAtAll, result);
        Assert.Equal(before, await BackupRig.FingerprintAsync(small));
        Assert.Equal("running", await BackupRig.StateAsync(user));
    }

    [Fact]
    public async Task The_helper_image_is_the_setting_never_one_a_manifest_names()
    {
        var (volume, _) = await _rig.VolumeWithServiceAsync("data", "app");
        var before = await BackupRig.FingerprintAsync(volume);
        var set = await _rig.BackupAsync(volume, BackupMode.Hot);
        // An image that does not exist: a restore that used it would fail to make its helpers.
        var elsewhere = await DoctoredCopyAsync(set, v => v["images"] = new JsonArray("registry.invalid/not-the-helper:1"));
        // The image that would work: a runner without the setting must still not take it from the manifest.
        var tempting = await DoctoredCopyAsync(set, v => v["images"] = new JsonArray(TestProject.Image));
        var unset = _rig.DefaultOptions;
        unset.HelperImage = "";
        var copy = _rig.Project.Name + "_copy";

        await _rig.Runner().RestoreAsync(new RestoreRequest(elsewhere, IntoNewVolume: copy), null, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<BackupRefusedException>(() =>
            _rig.Runner(options: unset).RestoreAsync(new RestoreRequest(tempting, IntoNewVolume: copy + "2"), null, CancellationToken.None));
        var rollback = await Assert.ThrowsAsync<BackupRefusedException>(() => _rig.Runner(options: unset).RollBackAsync(tempting, CancellationToken.None));

        Assert.Equal(before, await BackupRig.FingerprintAsync(copy));
        Assert.Contains("Backups__HelperImage is not set", refused.Message);
        Assert.Contains("Backups__HelperImage is not set", rollback.Message);
        Assert.False(await _rig.Engine.VolumeExistsAsync(copy + "2", CancellationToken.None));
        Assert.Equal(before, await BackupRig.FingerprintAsync(volume));
    }

    /// <summary>A copy of the set in a new folder of the backup directory, its (only) manifest volume changed.</summary>
    private async Task<string> DoctoredCopyAsync(BackupOutcome set, Action<JsonObject> change)
    {
        var folder = Path.Combine(_rig.Directory, $"20260101-000000-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(set.Folder))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        var path = Path.Combine(folder, BackupManifest.FileName);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        manifest["setId"] = Guid.NewGuid().ToString("D");
        change(manifest["volumes"]![0]!.AsObject());
        await File.WriteAllTextAsync(path, manifest.ToJsonString());
        return folder;
    }
}
