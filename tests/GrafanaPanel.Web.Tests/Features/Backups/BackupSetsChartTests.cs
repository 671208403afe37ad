using GrafanaPanel.Web.Features.Backups;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class BackupSetsChartTests : PanelTestContext
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 2, 0, 0, TimeSpan.Zero);
    private readonly BackupSchedule _nightly = new() { Id = Guid.NewGuid(), Name = "nightly" };
    private readonly BackupSchedule _hourly = new() { Id = Guid.NewGuid(), Name = "hourly" };

    public BackupSetsChartTests() => MeasureChartLabels();

    private static BackupSet Set(BackupSchedule? schedule, DateTimeOffset at, long bytes, long ms, BackupSetStatus status = BackupSetStatus.Completed) => new()
    {
        Id = Guid.NewGuid(),
        CreatedAt = at,
        ScheduleId = schedule?.Id,
        Status = status,
        CompressedBytes = bytes,
        DurationMs = ms,
    };

    [Fact]
    public void Draws_size_and_duration_of_the_last_completed_sets_of_each_schedule()
    {
        List<BackupSet> sets =
        [
            .. Enumerable.Range(0, 25).Select(i => Set(_hourly, Start.AddHours(i), (40 + i) * 1024 * 1024, 30_000 + 1000 * i)),
            Set(_nightly, Start, 300L * 1024 * 1024, 150_000),
            Set(_nightly, Start.AddDays(1), 320L * 1024 * 1024, 170_000),
            Set(_nightly, Start.AddDays(1).AddHours(1), 0, 1000, BackupSetStatus.Failed),
            Set(null, Start.AddHours(5), 100L * 1024 * 1024, 60_000),
        ];

        var chart = Render<BackupSetsChart>(p => p.Add(c => c.Sets, sets).Add(c => c.Schedules, [_nightly, _hourly]));

        Assert.Empty(chart.FindAll("[data-test=sets-chart-empty]"));
        foreach (var part in new[] { "sets-size-chart", "sets-duration-chart" })
        {
            // One line per schedule, the sets started by hand as one more; the hourly schedule's last 20 only; no failed set.
            var lines = chart.FindAll($"[data-test={part}] path.mud-chart-line:not(.mud-chart-dots)").Select(l => l.GetAttribute("d")!.Count(c => c is 'M' or 'L')).ToList();
            Assert.Equal([BackupSetsChart.PerSchedule, 2, 1], lines);
        }

        Assert.All(chart.FindAll("[data-test=sets-size-chart] g.mud-charts-yaxis text").Select(t => t.TextContent), t => Assert.EndsWith(" MiB", t));
        Assert.All(chart.FindAll("[data-test=sets-duration-chart] g.mud-charts-yaxis text").Select(t => t.TextContent), t => Assert.EndsWith(" min", t));
        Assert.Contains("hourly", chart.Find("[data-test=sets-size-chart]").TextContent);
        Assert.Contains(BackupSetsChart.Unscheduled, chart.Find("[data-test=sets-size-chart]").TextContent);
    }

    [Fact]
    public void Says_so_in_a_sentence_while_no_set_completed()
    {
        var chart = Render<BackupSetsChart>(p => p
            .Add(c => c.Sets, [Set(_nightly, Start, 0, 0, BackupSetStatus.Running), Set(_nightly, Start, 0, 900, BackupSetStatus.Failed)])
            .Add(c => c.Schedules, [_nightly]));

        Assert.Contains("No completed backup set yet", chart.Find("[data-test=sets-chart-empty]").TextContent);
        Assert.Empty(chart.FindAll("svg"));
    }
}
