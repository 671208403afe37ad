using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary><see cref="IVolumeSizeHistory"/> in PostgreSQL; database errors reach the caller.</summary>
public sealed class VolumeSizeHistory(IDbContextFactory<PanelDbContext> dbFactory) : IVolumeSizeHistory
{
    /// <summary>The lab volumes of a view whose size is known: what one measurement keeps and the overview adds up.</summary>
    public static IReadOnlyList<VolumeView> MeasuredLabVolumes(StackView view)
    {
        var lab = view.LabVolumeNames.ToHashSet(StringComparer.Ordinal);
        return [.. view.Volumes.Where(v => v.SizeBytes is not null && lab.Contains(v.Name))];
    }

    public async Task AppendAsync(DateTimeOffset measuredAt, IReadOnlyCollection<VolumeView> volumes, CancellationToken ct)
    {
        var at = measuredAt.ToUniversalTime();
        var samples = volumes.Where(v => v.SizeBytes is not null)
            .Select(v => new VolumeSizeSampleEntity { At = at, VolumeName = v.Name, SizeBytes = v.SizeBytes!.Value })
            .ToList();
        if (samples.Count == 0)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.VolumeSizeSamples.AddRange(samples);
        await db.SaveChangesAsync(ct);
    }

    public async Task<IReadOnlyList<VolumeSizeTotal>> TotalsAsync(DateTimeOffset since, int maxPoints, CancellationToken ct)
    {
        if (maxPoints <= 0)
        {
            return [];
        }

        var sinceUtc = since.ToUniversalTime();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var totals = await db.VolumeSizeSamples.AsNoTracking()
            .Where(s => s.At >= sinceUtc)
            .GroupBy(s => s.At)
            .OrderBy(g => g.Key)
            .Select(g => new VolumeSizeTotal(g.Key, g.Sum(s => s.SizeBytes), g.Count()))
            .ToListAsync(ct);
        if (totals.Count <= maxPoints)
        {
            return totals;
        }

        // Every n-th measurement counted back from the newest, so the chart ends at the latest size.
        var stride = (int)Math.Ceiling(totals.Count / (double)maxPoints);
        var kept = new List<VolumeSizeTotal>(maxPoints);
        for (var i = totals.Count - 1; i >= 0 && kept.Count < maxPoints; i -= stride)
        {
            kept.Add(totals[i]);
        }

        kept.Reverse();
        return kept;
    }

    public async Task<int> PruneAsync(DateTimeOffset olderThan, CancellationToken ct)
    {
        var cutoff = olderThan.ToUniversalTime();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.VolumeSizeSamples.Where(s => s.At < cutoff).ExecuteDeleteAsync(ct);
    }
}
