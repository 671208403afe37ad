namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>A clock that stands still until the test moves it.</summary>
public sealed class TestClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now.ToUniversalTime();
}
