namespace GrafanaPanel.Web.Features.Stack;

/// <summary>The lab volumes' total size at one measurement.</summary>
public sealed record VolumeSizeTotal(DateTimeOffset At, long TotalBytes, int VolumeCount);

/// <summary>
/// The measured sizes of the lab volumes kept in PostgreSQL, so the overview can show how the lab grows over a course.
/// </summary>
public interface IVolumeSizeHistory
{
    /// <summary>Keeps the sizes of one measurement; volumes of unknown size are left out.</summary>
    Task AppendAsync(DateTimeOffset measuredAt, IReadOnlyCollection<VolumeView> volumes, CancellationToken ct);

    /// <summary>
    /// The total size per measurement since a time, oldest first; thinned out evenly to at most
    /// <paramref name="maxPoints"/> measurements, always keeping the newest.
    /// </summary>
    Task<IReadOnlyList<VolumeSizeTotal>> TotalsAsync(DateTimeOffset since, int maxPoints, CancellationToken ct);

    /// <summary>Deletes samples older than the given time; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset olderThan, CancellationToken ct);
}
