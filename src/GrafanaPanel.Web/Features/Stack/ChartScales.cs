using MudBlazor;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>
/// Axes shared by the portal's time charts: a value axis whose unit fits the values (so its ticks are round numbers
/// of that unit), and time labels spaced and written for the span the data covers.
/// </summary>
public static class ChartScales
{
    private static readonly TimeSpan[] LabelSpacings =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12),
        TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(7), TimeSpan.FromDays(14),
    ];

    /// <summary>The binary unit the largest value reaches (B, KiB, MiB, GiB, TiB) and its size in bytes.</summary>
    public static (string Name, double Bytes) ByteUnit(double maxBytes)
    {
        string[] names = ["B", "KiB", "MiB", "GiB", "TiB"];
        var unit = 0;
        while (unit < names.Length - 1 && maxBytes >= Math.Pow(1024, unit + 1))
        {
            unit++;
        }

        return (names[unit], Math.Pow(1024, unit));
    }

    /// <summary>The unit seconds are best read in for the largest value: s, min or h, and its length in seconds.</summary>
    public static (string Name, double Seconds) DurationUnit(double maxSeconds) => maxSeconds switch
    {
        >= 2 * 3600 => ("h", 3600),
        >= 2 * 60 => ("min", 60),
        _ => ("s", 1),
    };

    /// <summary>Options for a time chart of values in one unit, with the time labels fitted to the data's span.</summary>
    public static TimeSeriesChartOptions TimeOptions(string title, string unit, IEnumerable<DateTime> times, bool legend)
    {
        var all = times.ToList();
        var span = all.Count == 0 ? TimeSpan.Zero : all.Max() - all.Min();
        var spacing = LabelSpacings.FirstOrDefault(s => span / s <= 6, LabelSpacings[^1]);
        return new TimeSeriesChartOptions
        {
            ShowLegend = legend,
            YAxisTitle = title,
            YAxisToStringFunc = value => $"{value:0.##} {unit}",
            YAxisRequireZeroPoint = true,
            YAxisTicks = 0,
            ShowDataMarkers = true,
            TimeLabelSpacing = spacing,
            TimeLabelFormat = spacing >= TimeSpan.FromDays(1) ? "dd.MM" : span >= TimeSpan.FromDays(1) ? "dd.MM HH:mm" : "HH:mm",
            TooltipTimeLabelFormat = "dd.MM HH:mm",
        };
    }
}
