using System.Globalization;
using System.Text.RegularExpressions;

namespace GrafanaPanel.IntegrationTests.Telemetry;

/// <summary>Reads one series of a portal's /metrics as Prometheus would scrape it.</summary>
public static class Scrape
{
    /// <summary>The value of <paramref name="series"/> (name and labels as written, e.g. <c>x{job="reset"}</c>), or null when absent.</summary>
    public static double? Value(string metrics, string series)
    {
        var match = Regex.Match(metrics, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture) : null;
    }

    public static async Task<double?> ValueAsync(HttpClient client, string series) => Value(await client.GetStringAsync("/metrics"), series);
}
