using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Tests.Features.Backups;

namespace GrafanaPanel.Web.Tests.Data;

public sealed class VocabularyTests
{
    [Theory]
    [InlineData(BackupTrigger.Manual, "manual")]
    [InlineData(BackupTrigger.Schedule, "schedule")]
    [InlineData(BackupTrigger.PreReset, "pre-reset")]
    [InlineData(BackupTrigger.PreRestore, "pre-restore")]
    [InlineData(BackupTrigger.Baseline, "baseline")]
    [InlineData(BackupTrigger.Import, "import")]
    public void A_backup_trigger_is_stored_and_shown_in_kebab_case(BackupTrigger trigger, string name)
    {
        Assert.Equal(name, Vocabulary.Name(trigger));
        Assert.Equal(name, Vocabulary.Display(trigger));
        Assert.Equal(trigger, Vocabulary.Parse<BackupTrigger>(name));
    }

    [Fact]
    public void Words_read_better_than_the_stored_form_where_a_display_name_says_so()
    {
        Assert.Equal("not-verified", Vocabulary.Name(VerificationState.NotVerified));
        Assert.Equal("not verified", Vocabulary.Display(VerificationState.NotVerified));
        Assert.Equal("safety-backup", Vocabulary.Name(ResetStepKind.SafetyBackup));
        Assert.Equal("Safety backup", Vocabulary.Display(ResetStepKind.SafetyBackup));
        Assert.Equal("Wait until healthy", Vocabulary.Display(ResetStepKind.Health));
        Assert.Equal("completed", Vocabulary.Display(BackupSetStatus.Completed));
    }

    [Fact]
    public void Every_reset_step_kind_has_words_for_the_run_page()
    {
        Assert.Equal(9, Enum.GetValues<ResetStepKind>().Length);
        Assert.All(Enum.GetValues<ResetStepKind>(), kind => Assert.NotEqual(Vocabulary.Name(kind), Vocabulary.Display(kind)));
    }

    [Fact]
    public void An_unknown_stored_value_is_refused_naming_it_and_the_known_ones()
    {
        var error = Assert.Throws<InvalidDataException>(() => Vocabulary.Parse<BackupTrigger>("safety"));

        Assert.Contains("\"safety\"", error.Message);
        Assert.Contains("pre-restore", error.Message);
    }

    [Fact]
    public void The_catalog_reads_a_pre_restore_set_as_pre_restore()
    {
        var converter = Vocabulary.Converter<BackupTrigger>();

        Assert.Equal(BackupTrigger.PreRestore, converter.ConvertFromProvider("pre-restore"));
        Assert.Equal("pre-restore", converter.ConvertToProvider(BackupTrigger.PreRestore));
    }

    [Theory]
    [InlineData(BackupTrigger.Manual, BackupTrigger.Manual)]
    [InlineData(BackupTrigger.Schedule, BackupTrigger.Schedule)]
    [InlineData(BackupTrigger.PreReset, BackupTrigger.PreReset)]
    [InlineData(BackupTrigger.PreRestore, BackupTrigger.PreRestore)]
    [InlineData(BackupTrigger.Baseline, BackupTrigger.Manual)]
    [InlineData(BackupTrigger.Import, BackupTrigger.Manual)]
    public void A_manifest_records_only_the_triggers_every_version_reads(BackupTrigger set, BackupTrigger manifest)
    {
        Assert.Equal(manifest, BackupFolders.ManifestTrigger(set));
    }

    [Theory]
    [InlineData("manual", BackupTrigger.Manual)]
    [InlineData("schedule", BackupTrigger.Schedule)]
    [InlineData("pre-reset", BackupTrigger.PreReset)]
    [InlineData("pre-restore", BackupTrigger.PreRestore)]
    public async Task A_manifest_written_by_an_earlier_version_is_read(string trigger, BackupTrigger expected)
    {
        using var folder = new TempFolder();
        await File.WriteAllTextAsync(folder.Combine(BackupManifest.FileName), $$"""
            {
              "setId": "6f1c3a52-8a7e-4f34-9d55-2f3a1c0b9e11",
              "createdAt": "2026-11-26T05:30:00+00:00",
              "trigger": "{{trigger}}",
              "mode": "pause",
              "compression": "zstd",
              "volumes": [
                {
                  "name": "lab_grafana-data",
                  "archiveFile": "lab_grafana-data.tar.zst",
                  "rootName": "grafana-data",
                  "tarBytes": 9728,
                  "compressedBytes": 1200,
                  "entryCount": 10,
                  "sha256": "{{new string('a', 64)}}",
                  "images": ["local/grafana:11"],
                  "services": ["grafana"]
                }
              ],
              "formatVersion": 1
            }
            """);

        var manifest = await BackupManifest.ReadAsync(folder.Path, CancellationToken.None);

        Assert.Equal(expected, manifest.Trigger);
        Assert.Equal(BackupMode.Pause, manifest.Mode);
    }

    [Theory]
    [InlineData("backup", JournalOperation.Backup)]
    [InlineData("restore", JournalOperation.Restore)]
    [InlineData("reset", JournalOperation.Reset)]
    public async Task A_journal_written_by_an_earlier_version_is_read(string operation, JournalOperation expected)
    {
        using var folder = new TempFolder();
        var setId = Guid.NewGuid();
        var path = InflightJournal.PathFor(folder.Path, setId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, $$"""
            {
              "setId": "{{setId}}",
              "operation": "{{operation}}",
              "folder": "/backups/x",
              "paused": [],
              "stopped": ["abc"],
              "startedAt": "2026-11-26T05:30:00+00:00"
            }
            """);

        var (_, journal) = Assert.Single(InflightJournal.ReadAll(folder.Path));

        Assert.Equal(expected, journal!.Operation);
        Assert.Equal(["abc"], journal.Stopped);
    }

    [Fact]
    public async Task A_journal_is_written_with_its_operation_as_a_word()
    {
        using var folder = new TempFolder();
        var setId = Guid.NewGuid();

        await new InflightJournal(setId, JournalOperation.Reset, "", [], [], DateTimeOffset.UtcNow).WriteAsync(folder.Path, CancellationToken.None);
        InflightJournal.Release(folder.Path, setId, delete: false);

        Assert.Contains("\"operation\": \"reset\"", await File.ReadAllTextAsync(InflightJournal.PathFor(folder.Path, setId)));
    }
}
