using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Tests.Features.Stack;

public sealed class ChartScalesTests
{
    [Theory]
    [InlineData(0, "B", 1)]
    [InlineData(1023, "B", 1)]
    [InlineData(1024, "KiB", 1024)]
    [InlineData(5L * 1024 * 1024, "MiB", 1024 * 1024)]
    [InlineData(3L * 1024 * 1024 * 1024, "GiB", 1024L * 1024 * 1024)]
    public void ByteUnit_is_the_largest_binary_unit_the_values_reach(long max, string name, long bytes) =>
        Assert.Equal((name, (double)bytes), ChartScales.ByteUnit(max));

    [Theory]
    [InlineData(30, "s")]
    [InlineData(119, "s")]
    [InlineData(120, "min")]
    [InlineData(3 * 3600, "h")]
    public void DurationUnit_reads_long_durations_in_minutes_or_hours(double seconds, string name) =>
        Assert.Equal(name, ChartScales.DurationUnit(seconds).Name);

    [Fact]
    public void TimeOptions_space_the_time_labels_for_the_span_and_write_the_unit_on_every_tick()
    {
        var start = new DateTime(2026, 3, 2, 8, 0, 0);

        var hours = ChartScales.TimeOptions("Size", "MiB", [start, start.AddHours(2)], legend: false);
        var days = ChartScales.TimeOptions("Size", "MiB", [start, start.AddDays(20)], legend: true);

        Assert.Equal(TimeSpan.FromMinutes(30), hours.TimeLabelSpacing);
        Assert.Equal("HH:mm", hours.TimeLabelFormat);
        Assert.Equal(TimeSpan.FromDays(7), days.TimeLabelSpacing);
        Assert.Equal("dd.MM", days.TimeLabelFormat);
        Assert.Equal("12.5 MiB", hours.YAxisToStringFunc!(12.5));
        Assert.Equal("Size", hours.YAxisTitle);
        Assert.False(hours.ShowLegend);
        Assert.True(days.ShowLegend);
    }
}
