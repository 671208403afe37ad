using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Tests.Features.Stack;

public sealed class VolumeSizeChartTests : PanelTestContext
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    public VolumeSizeChartTests() => MeasureChartLabels();

    [Fact]
    public void Draws_the_total_size_per_measurement_on_an_axis_in_the_unit_the_sizes_reach()
    {
        var chart = Render<VolumeSizeChart>(p => p.Add(c => c.Totals, [
            new VolumeSizeTotal(Start, 200L * 1024 * 1024, 3),
            new VolumeSizeTotal(Start.AddHours(1), 300L * 1024 * 1024, 3),
            new VolumeSizeTotal(Start.AddHours(2), 1536L * 1024 * 1024, 4),
        ]));

        Assert.Empty(chart.FindAll("[data-test=volume-sizes-empty]"));
        Assert.Single(chart.FindAll("[data-test=volume-sizes-chart] path.mud-chart-line"));
        Assert.Equal(3, chart.FindAll("[data-test=volume-sizes-chart] circle.mud-chart-point:not(.mud-chart-hover-point)").Count);
        var ticks = chart.FindAll("g.mud-charts-yaxis text").Select(t => t.TextContent).ToList();
        Assert.NotEmpty(ticks);
        Assert.All(ticks, t => Assert.EndsWith(" GiB", t));
        // The newest total is the largest: its point is highest (smallest y).
        var heights = chart.FindAll("circle.mud-chart-point:not(.mud-chart-hover-point)").Select(c => double.Parse(c.GetAttribute("cy")!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(heights.Min(), heights[^1]);
        Assert.Contains("Total size", chart.Find("text.mud-charts-yaxis").TextContent);
    }

    [Fact]
    public void Says_so_in_a_sentence_while_nothing_was_measured()
    {
        var chart = Render<VolumeSizeChart>(p => p.Add(c => c.Totals, []));

        Assert.Contains("No measurement of the lab volumes kept yet", chart.Find("[data-test=volume-sizes-empty]").TextContent);
        Assert.Empty(chart.FindAll("svg"));
    }
}
