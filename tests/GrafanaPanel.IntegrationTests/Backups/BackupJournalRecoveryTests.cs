using GrafanaPanel.Web.Features.Backups.Volumes;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>Restores cut off half-way, and the journals recovery works from, against the real daemon.</summary>
public sealed class BackupJournalRecoveryTests : IAsyncLifetime
{
    private BackupRig _rig = null!;

    public async ValueTask InitializeAsync() => _rig = await BackupRig.CreateAsync();

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task A_restore_whose_second_archive_fails_to_upload_rolls_both_volumes_back_and_starts_their_services()
    {
        var (first, a) = await _rig.VolumeWithServiceAsync("first", "a");
        var (second, b) = await _rig.VolumeWithServiceAsync("second", "b", bigFile: true);
        var backup = await _rig.Runner().BackupAsync(
            new BackupRequest(Guid.NewGuid(), [first, second], BackupMode.Stop, ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None);
        await BackupRig.ScribbleAsync(first);
        await BackupRig.ScribbleAsync(second);
        var before = new[] { await BackupRig.FingerprintAsync(first), await BackupRig.FingerprintAsync(second) };
        var secondArchive = Path.Combine(backup.Folder, backup.Manifest.FindVolume(second)!.ArchiveFile);
        var damaged = false;
        // Validated before anything was touched, the second archive goes bad while the first volume is being written.
        var progress = new SyncProgress(p =>
        {
            if (p is { Step: "Writing" } && p.Volume == first && !damaged)
            {
                damaged = true;
                var bytes = File.ReadAllBytes(secondArchive);
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(secondArchive, bytes);
            }
        });

        var failed = await Assert.ThrowsAsync<ReplacementFailedException>(() =>
            _rig.Runner().RestoreAsync(new RestoreRequest(backup.Folder), progress, CancellationToken.None));

        Assert.True(damaged);
        Assert.True(failed.RolledBack, failed.Message);
        Assert.Contains(second, failed.Message);
        Assert.Equal(before, new[] { await BackupRig.FingerprintAsync(first), await BackupRig.FingerprintAsync(second) });
        Assert.Equal("running", await BackupRig.StateAsync(a));
        Assert.Equal("running", await BackupRig.StateAsync(b));
        Assert.Empty(Directory.GetFiles(Path.Combine(_rig.Directory, InflightJournal.FolderName)));
        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    [Theory]
    [InlineData(JournalOperation.Restore)]
    [InlineData(JournalOperation.Reset)]
    public async Task Recovery_rolls_a_cut_off_restore_or_reset_back_to_its_safety_backup_before_it_starts_the_services(JournalOperation operation)
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var source = await _rig.BackupAsync(volume, BackupMode.Hot);
        await BackupRig.ScribbleAsync(volume);
        var before = await BackupRig.FingerprintAsync(volume);
        var safety = await _rig.BackupAsync(volume, BackupMode.Hot);
        // What a portal killed mid-restore leaves: the service stopped, the volume half-written, the journal naming the safety set.
        await DockerCli.RunAsync("stop", container);
        await BackupRig.InVolumeAsync(volume, "rm -rf /d/* && echo half > /d/half.txt");
        await new InflightJournal(source.Manifest.SetId, operation, source.Folder, [], [container], DateTimeOffset.UtcNow,
            safety.Folder).WriteAsync(_rig.Directory, CancellationToken.None);
        InflightJournal.Release(_rig.Directory, source.Manifest.SetId, delete: false);

        var report = await _rig.Recovery().RecoverAsync(CancellationToken.None);

        Assert.Equal(before, await BackupRig.FingerprintAsync(volume));
        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal([container], report.ResumedContainers);
        Assert.Equal(safety.Folder, Assert.Single(report.InterruptedSets).SafetyFolder);
        Assert.Empty(report.Problems);
        Assert.False(File.Exists(InflightJournal.PathFor(_rig.Directory, source.Manifest.SetId)));
        Assert.Equal("", await _rig.HelpersLeftAsync());
    }

    [Fact]
    public async Task A_journal_of_an_earlier_version_without_a_safety_folder_is_read_and_only_resumes_its_containers()
    {
        var (volume, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var content = await BackupRig.FingerprintAsync(volume);
        await DockerCli.RunAsync("stop", container);
        var setId = Guid.NewGuid();
        var path = InflightJournal.PathFor(_rig.Directory, setId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, $$"""
            {
              "setId": "{{setId}}",
              "operation": "restore",
              "folder": "{{_rig.Directory}}/20260101-000000-{{setId.ToString("N")[..8]}}",
              "paused": [],
              "stopped": [ "{{container}}" ],
              "startedAt": "2026-01-01T00:00:00+00:00"
            }
            """);

        var journal = Assert.Single(InflightJournal.ReadAll(_rig.Directory)).Journal;
        var report = await _rig.Recovery().RecoverAsync(CancellationToken.None);

        Assert.NotNull(journal);
        Assert.Null(journal.SafetyFolder);
        Assert.Equal([container], journal.Stopped);
        Assert.Equal([container], report.ResumedContainers);
        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.Equal(content, await BackupRig.FingerprintAsync(volume));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_journal_its_running_operation_owns_is_left_alone_until_the_operation_lets_go()
    {
        var (_, container) = await _rig.VolumeWithServiceAsync("data", "app");
        var setId = Guid.NewGuid();
        await new InflightJournal(setId, InflightJournal.BackupOperation, Path.Combine(_rig.Directory, "x"), [container], [], DateTimeOffset.UtcNow)
            .WriteAsync(_rig.Directory, CancellationToken.None);
        await DockerCli.RunAsync("pause", container);
        var recovery = _rig.Recovery();

        Assert.False(recovery.HasOrphanedJournals());
        Assert.Empty((await recovery.RecoverJournalsAsync(CancellationToken.None)).InterruptedSets);
        Assert.Equal("paused", await BackupRig.StateAsync(container));

        // The operation could not resume its container (the engine was gone) and hands the journal to recovery.
        InflightJournal.Release(_rig.Directory, setId, delete: false);

        Assert.True(recovery.HasOrphanedJournals());
        Assert.Equal([container], (await recovery.RecoverJournalsAsync(CancellationToken.None)).ResumedContainers);
        Assert.Equal("running", await BackupRig.StateAsync(container));
        Assert.False(recovery.HasOrphanedJournals());
    }
}
