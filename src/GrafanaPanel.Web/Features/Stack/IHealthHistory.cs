namespace GrafanaPanel.Web.Features.Stack;

/// <summary>One result of the portal's own probe of a service's health endpoint.</summary>
public sealed record ProbeSample(string Service, DateTimeOffset At, bool Healthy, int LatencyMs, string? Message);

/// <summary>The mean latency of the successful probes of a stretch of time, at the time of its last probe.</summary>
public sealed record LatencyPoint(DateTimeOffset At, double LatencyMs);

/// <summary>Probe results kept in PostgreSQL, so the heartbeat bar survives a restart of the portal.</summary>
public interface IHealthHistory
{
    Task AppendAsync(IReadOnlyCollection<ProbeSample> samples, CancellationToken ct);

    /// <summary>The newest <paramref name="max"/> samples of a service since a time, oldest first.</summary>
    Task<IReadOnlyList<ProbeSample>> RecentAsync(string service, DateTimeOffset since, int max, CancellationToken ct);

    /// <summary>
    /// The latency of a service's successful probes since a time, oldest first: each probe, or when there are more than
    /// <paramref name="maxPoints"/>, the mean of runs of consecutive probes so that at most that many points remain.
    /// </summary>
    Task<IReadOnlyList<LatencyPoint>> LatencyAsync(string service, DateTimeOffset since, int maxPoints, CancellationToken ct);

    /// <summary>Deletes samples older than the given time; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset olderThan, CancellationToken ct);
}
