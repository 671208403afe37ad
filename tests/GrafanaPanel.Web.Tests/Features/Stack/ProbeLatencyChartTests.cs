using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Tests.Features.Stack;

public sealed class ProbeLatencyChartTests : PanelTestContext
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    public ProbeLatencyChartTests() => MeasureChartLabels();

    [Fact]
    public void Draws_the_latency_in_milliseconds_over_the_kept_history()
    {
        var points = Enumerable.Range(0, 48).Select(i => new LatencyPoint(Start.AddHours(i), 10 + i)).ToList();

        var chart = Render<ProbeLatencyChart>(p => p.Add(c => c.Points, points));

        Assert.Empty(chart.FindAll("[data-test=latency-empty]"));
        var line = chart.Find("[data-test=latency-chart] path.mud-chart-line").GetAttribute("d")!;
        Assert.Equal(48, line.Count(c => c is 'M' or 'L'));
        var ticks = chart.FindAll("g.mud-charts-yaxis text").Select(t => t.TextContent).ToList();
        Assert.NotEmpty(ticks);
        Assert.All(ticks, t => Assert.EndsWith(" ms", t));
        Assert.Equal("Probe latency", chart.Find("text.mud-charts-yaxis").TextContent.Trim());
        // Two days of data: the time axis names the day as well as the hour.
        Assert.Contains(chart.FindAll("g.mud-charts-xaxis text"), t => t.TextContent.StartsWith("02.03", StringComparison.Ordinal));
    }

    [Fact]
    public void Says_so_in_a_sentence_while_no_probe_succeeded()
    {
        var chart = Render<ProbeLatencyChart>(p => p.Add(c => c.Points, []));

        Assert.Contains("No successful probe kept yet", chart.Find("[data-test=latency-empty]").TextContent);
        Assert.Empty(chart.FindAll("svg"));
    }
}
