using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class BackupsPageTests : PanelTestContext
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeBackupService _backups = new();
    private readonly FakeTimeProvider _time = new(Now);
    private readonly BackupProgressHub _hub;

    public BackupsPageTests()
    {
        _hub = new BackupProgressHub(_time);
        Services.AddSingleton<IBackupService>(_backups);
        Services.AddSingleton(_hub);
        Services.AddSingleton<TimeProvider>(_time);
        UseInteractiveServerRenderer();
    }

    private static BackupSet Set(string trigger, BackupSetStatus status, long compressed, long tar, VerificationState verification = VerificationState.NotVerified, string? error = null) => new()
    {
        Id = Guid.NewGuid(),
        CreatedAt = Now.AddHours(-1),
        Trigger = Vocabulary.Parse<BackupTrigger>(trigger),
        Status = status,
        CompressedBytes = compressed,
        UncompressedBytes = tar,
        DurationMs = 4200,
        Verification = verification,
        Error = error,
        Volumes = [new BackupSetVolume { VolumeName = "grafana-training_grafana_data" }, new BackupSetVolume { VolumeName = "grafana-training_prometheus_data" }],
    };

    [Fact]
    public void Triggers_and_states_are_shown_as_words()
    {
        _backups.Sets.Add(Set("pre-restore", BackupSetStatus.Completed, 1024, 4096));

        var page = Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Equal("pre-restore", page.Find("[data-test=set-trigger]").TextContent));
        Assert.StartsWith("not verified", page.Find("[data-test=set-verification]").TextContent.Trim());
    }

    [Fact]
    public void Lists_sets_with_trigger_volumes_size_ratio_verification_and_error()
    {
        _backups.Sets.Add(Set("schedule", BackupSetStatus.Completed, 1024 * 1024, 4 * 1024 * 1024, VerificationState.Passed));
        _backups.Sets.Add(Set("manual", BackupSetStatus.Failed, 0, 0, error: "No space left on device"));

        var page = Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-test=set-row]").Count));
        Assert.Equal(["schedule", "manual"], page.FindAll("[data-test=set-trigger]").Select(c => c.TextContent));
        Assert.Contains("grafana-training_grafana_data, grafana-training_prometheus_data", page.FindAll("[data-test=set-volumes]")[0].TextContent);
        Assert.Equal("4.0×", page.FindAll("[data-test=set-ratio]")[0].TextContent);
        Assert.StartsWith("passed", page.FindAll("[data-test=set-verification]")[0].TextContent.Trim());
        Assert.Contains("failed", page.FindAll("[data-test=set-status]")[1].TextContent);
        Assert.Equal("No space left on device", page.Find("[data-test=set-error]").TextContent);
        Assert.NotEmpty(page.FindAll("[data-test=backup-now]"));
    }

    [Fact]
    public void A_running_job_shows_a_live_bar_with_bytes_and_throughput()
    {
        var id = Guid.NewGuid();
        var page = Render<BackupsPage>();
        Assert.Empty(page.FindAll("[data-test=running-job]"));

        _hub.Publish(id, "backup", new BackupProgress("copying", "grafana-training_grafana_data", 0, 100L * 1024 * 1024));
        _time.Advance(TimeSpan.FromSeconds(2));
        _hub.Publish(id, "backup", new BackupProgress("copying", "grafana-training_grafana_data", 50L * 1024 * 1024, 100L * 1024 * 1024));

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=running-job]")));
        Assert.Contains("50", page.Find("[data-test=running-bytes]").TextContent);
        Assert.Contains("100", page.Find("[data-test=running-bytes]").TextContent);
        Assert.Contains("25", page.Find("[data-test=running-rate]").TextContent);
        Assert.EndsWith("/s", page.Find("[data-test=running-rate]").TextContent);

        _hub.Complete(id);
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=running-job]")));
    }

    [Fact]
    public void A_corrupt_set_shows_why_and_offers_no_restore()
    {
        _backups.Sets.Add(Set("manual", BackupSetStatus.Corrupt, 10, 20, VerificationState.Failed,
            error: "Archive 'grafana.tar.zst' failed its integrity check: SHA-256 differs"));

        var page = Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=set-row]")));
        Assert.Contains("corrupt", page.Find("[data-test=set-status]").TextContent);
        Assert.Contains("SHA-256 differs", page.Find("[data-test=set-error]").TextContent);
        Assert.StartsWith("failed", page.Find("[data-test=set-verification]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-test=set-actions]"));
    }

    [Fact]
    public void A_viewer_sees_the_sets_but_no_actions()
    {
        _backups.CanManage = false;
        _backups.Sets.Add(Set("manual", BackupSetStatus.Completed, 10, 20));

        var page = Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=set-row]")));
        Assert.Empty(page.FindAll("[data-test=backup-now]"));
        Assert.Empty(page.FindAll("[data-test=set-actions]"));
    }

    [Fact]
    public void The_schedule_form_shows_the_cron_in_words_and_validation_messages_inline()
    {
        var page = Render<BackupsPage>();
        page.FindAll(".mud-tab").Single(t => t.TextContent.Contains("Schedules")).Click();
        page.Find("[data-test=schedule-new] button, button[data-test=schedule-new]").Click();

        page.WaitForAssertion(() => Assert.Contains("at 02:00, every day (UTC)", page.Find("[data-test=schedule-words]").TextContent));
        Assert.Equal(5, page.FindAll("[data-test=schedule-next] li").Count);

        page.Find("input[data-test=schedule-cron], [data-test=schedule-cron] input").Input("0 0 2 * * *");
        page.WaitForAssertion(() => Assert.Contains("six fields", page.Find("[data-test=schedule-error]").TextContent));
        Assert.Empty(page.FindAll("[data-test=schedule-words]"));

        page.Find("input[data-test=schedule-cron], [data-test=schedule-cron] input").Input("0 2 ? * *");
        page.WaitForAssertion(() => Assert.Contains("Quartz", page.Find("[data-test=schedule-error]").TextContent));

        page.Find("input[data-test=schedule-cron], [data-test=schedule-cron] input").Input("15 3 * * 1-5");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=schedule-error]")));
        _backups.RefuseScheduleWith = "Choose at least one volume.";
        page.Find("button[data-test=schedule-save]").Click();
        page.WaitForAssertion(() => Assert.Equal("Choose at least one volume.", page.Find("[data-test=schedule-error]").TextContent.Trim()));
    }

    private sealed class FakeBackupService : IBackupService
    {
        public List<BackupSet> Sets { get; } = [];

        public List<BackupSchedule> Schedules { get; } = [];

        public bool CanManage { get; set; } = true;

        public string? RefuseScheduleWith { get; set; }

        public Task<IReadOnlyList<BackupSet>> ListSetsAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<BackupSet>>(Sets.ToList());

        public Task<IReadOnlyList<BackupSchedule>> ListSchedulesAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<BackupSchedule>>(Schedules.ToList());

        public IReadOnlyList<string> AvailableVolumes() => ["grafana-training_grafana_data", "grafana-training_prometheus_data"];

        public Task<bool> CanManageAsync() => Task.FromResult(CanManage);

        public Task<Guid> CreateBackupAsync(IReadOnlyList<string> volumes, BackupMode mode, CancellationToken ct = default) => Task.FromResult(Guid.NewGuid());

        public Task RestoreAsync(Guid setId, IReadOnlyList<string>? volumes = null, string? intoNewVolume = null, CancellationToken ct = default) => Task.CompletedTask;

        public Task VerifyAsync(Guid setId, bool testRestore, CancellationToken ct = default) => Task.CompletedTask;

        public Task SetPinnedAsync(Guid setId, bool pinned, CancellationToken ct = default) => Task.CompletedTask;

        public Task DeleteAsync(Guid setId, CancellationToken ct = default) => Task.CompletedTask;

        public Task RescanAsync(CancellationToken ct = default) => Task.CompletedTask;

        public Task<Guid> CreateScheduleAsync(ScheduleInput input, CancellationToken ct = default) =>
            RefuseScheduleWith is { } message ? Task.FromException<Guid>(new ScheduleValidationException(message)) : Task.FromResult(Guid.NewGuid());

        public Task UpdateScheduleAsync(Guid scheduleId, ScheduleInput input, CancellationToken ct = default) => Task.CompletedTask;

        public Task DeleteScheduleAsync(Guid scheduleId, CancellationToken ct = default) => Task.CompletedTask;

        public Task SetPausedAsync(Guid scheduleId, bool paused, CancellationToken ct = default) => Task.CompletedTask;

        public Task RunScheduleNowAsync(Guid scheduleId, CancellationToken ct = default) => Task.CompletedTask;

        public Task<IReadOnlyList<Guid>> ApplyRetentionAsync(Guid scheduleId, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Guid>>([]);
    }
}
