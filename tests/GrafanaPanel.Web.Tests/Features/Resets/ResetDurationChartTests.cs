using GrafanaPanel.Web.Features.Resets;

namespace GrafanaPanel.Web.Tests.Features.Resets;

public sealed class ResetDurationChartTests : PanelTestContext
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 7, 0, 0, TimeSpan.Zero);

    public ResetDurationChartTests() => MeasureChartLabels();

    private static ResetRun Run(DateTimeOffset at, ResetStatus status, long? ms) =>
        new() { Id = Guid.NewGuid(), RequestedAt = at, Status = status, DurationMs = ms, BaselineName = "factory" };

    [Fact]
    public void Draws_how_long_the_finished_resets_took_by_outcome_in_seconds()
    {
        var runs = new List<ResetRun>
        {
            Run(Start, ResetStatus.Succeeded, 42_000),
            Run(Start.AddDays(1), ResetStatus.Succeeded, 55_000),
            Run(Start.AddDays(2), ResetStatus.Failed, 12_000),
            Run(Start.AddDays(3), ResetStatus.Succeeded, 61_000),
            Run(Start.AddDays(3).AddHours(1), ResetStatus.Running, null),
        };

        var chart = Render<ResetDurationChart>(p => p.Add(c => c.Runs, runs));

        Assert.Empty(chart.FindAll("[data-test=reset-durations-empty]"));
        var lines = chart.FindAll("[data-test=reset-durations-chart] path.mud-chart-line:not(.mud-chart-dots)").Select(l => l.GetAttribute("d")!.Count(c => c is 'M' or 'L'));
        Assert.Equal([3, 1], lines);
        Assert.All(chart.FindAll("g.mud-charts-yaxis text").Select(t => t.TextContent), t => Assert.EndsWith(" s", t));
        Assert.Contains("succeeded", chart.Find("[data-test=reset-durations-chart]").TextContent);
        Assert.Contains("failed", chart.Find("[data-test=reset-durations-chart]").TextContent);
    }

    [Fact]
    public void Says_so_in_a_sentence_while_no_reset_finished()
    {
        var chart = Render<ResetDurationChart>(p => p.Add(c => c.Runs, [Run(Start, ResetStatus.Running, null), Run(Start, ResetStatus.Queued, null)]));

        Assert.Contains("No finished reset yet", chart.Find("[data-test=reset-durations-empty]").TextContent);
        Assert.Empty(chart.FindAll("svg"));
    }
}
