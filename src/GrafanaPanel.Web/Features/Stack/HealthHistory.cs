using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>
/// <see cref="IHealthHistory"/> in PostgreSQL. Database errors reach the caller: the prober decides
/// whether a lost sample matters (the live state does not depend on it).
/// </summary>
public sealed class HealthHistory(IDbContextFactory<PanelDbContext> dbFactory) : IHealthHistory
{
    public async Task AppendAsync(IReadOnlyCollection<ProbeSample> samples, CancellationToken ct)
    {
        if (samples.Count == 0)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.ProbeSamples.AddRange(samples.Select(ProbeSampleEntity.From));
        // EF Core sends the inserts as one batch in one round trip.
        await db.SaveChangesAsync(ct);
    }

    public async Task<IReadOnlyList<ProbeSample>> RecentAsync(string service, DateTimeOffset since, int max, CancellationToken ct)
    {
        if (max <= 0)
        {
            return [];
        }

        var sinceUtc = since.ToUniversalTime();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var newestFirst = await db.ProbeSamples.AsNoTracking()
            .Where(s => s.Service == service && s.At >= sinceUtc)
            .OrderByDescending(s => s.At).ThenByDescending(s => s.Id)
            .Take(max)
            .Select(s => new ProbeSample(s.Service, s.At, s.Healthy, s.LatencyMs, s.Message))
            .ToListAsync(ct);
        newestFirst.Reverse();
        return newestFirst;
    }

    public async Task<IReadOnlyList<LatencyPoint>> LatencyAsync(string service, DateTimeOffset since, int maxPoints, CancellationToken ct)
    {
        if (maxPoints <= 0)
        {
            return [];
        }

        var sinceUtc = since.ToUniversalTime();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // A failed probe's latency is its timeout or nothing: only successful ones say how fast the service answers.
        // Two columns of the retained probes of one service (a few thousand rows) are averaged here rather than in SQL.
        var probes = await db.ProbeSamples.AsNoTracking()
            .Where(s => s.Service == service && s.At >= sinceUtc && s.Healthy)
            .OrderBy(s => s.At).ThenBy(s => s.Id)
            .Select(s => new { s.At, s.LatencyMs })
            .ToListAsync(ct);
        var run = (int)Math.Ceiling(probes.Count / (double)maxPoints);
        return [.. probes.Chunk(Math.Max(1, run)).Select(c => new LatencyPoint(c[^1].At, c.Average(p => p.LatencyMs)))];
    }

    public async Task<int> PruneAsync(DateTimeOffset olderThan, CancellationToken ct)
    {
        var cutoff = olderThan.ToUniversalTime();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ProbeSamples.Where(s => s.At < cutoff).ExecuteDeleteAsync(ct);
    }
}
