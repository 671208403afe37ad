using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Features.Api;

/// <summary><c>Panel:Api</c>: limits of the HTTP API.</summary>
public sealed class ApiOptions
{
    public const string Section = "Panel:Api";
    public const string ExpensivePolicy = "api-expensive";

    /// <summary>Expensive calls (measure volume sizes now, verify every set) a token may make per window.</summary>
    [Range(1, 1000, ErrorMessage = "Panel__Api__ExpensiveCallsPerWindow must be between 1 and 1000.")]
    public int ExpensiveCallsPerWindow { get; set; } = 3;

    /// <summary>The window of <see cref="ExpensiveCallsPerWindow"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Panel__Api__ExpensiveWindow must be between 00:00:01 and 1.00:00:00.")]
    public TimeSpan ExpensiveWindow { get; set; } = TimeSpan.FromMinutes(5);
}
