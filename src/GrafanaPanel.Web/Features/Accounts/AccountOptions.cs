using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>The first Admin, from <c>Panel__Admin__Email</c> / <c>Panel__Admin__Password</c>.</summary>
public sealed class AdminOptions
{
    public const string Section = "Panel:Admin";

    public string? Email { get; set; }

    public string? Password { get; set; }
}

/// <summary>Sign-in hardening, from the <c>Panel:SignIn</c> section.</summary>
public sealed class SignInOptions
{
    public const string Section = "Panel:SignIn";

    [Range(1, 100, ErrorMessage = "Panel__SignIn__MaxFailedAttempts must be between 1 and 100.")]
    public int MaxFailedAttempts { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00", ErrorMessage = "Panel__SignIn__LockoutDuration must be between 10 seconds and 1 day.")]
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    [Range(1, 10_000, ErrorMessage = "Panel__SignIn__AttemptsPerMinute must be between 1 and 10000.")]
    public int AttemptsPerMinute { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00", ErrorMessage = "Panel__SignIn__SessionLifetime must be between 5 minutes and 30 days.")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    [Range(8, 128, ErrorMessage = "Panel__SignIn__MinimumPasswordLength must be between 8 and 128.")]
    public int MinimumPasswordLength { get; set; } = 12;
}
