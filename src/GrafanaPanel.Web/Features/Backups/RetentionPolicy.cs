using GrafanaPanel.Web.Features.Schedules;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>A backup set as retention sees it.</summary>
public sealed record RetentionCandidate(Guid Id, DateTimeOffset CreatedAt, bool Pinned, bool IsBaseline, bool Verified);

/// <summary>
/// Keep the newest <see cref="KeepLast"/> sets and/or those younger than <see cref="MaxAge"/>. A set is deleted only
/// when it is outside every configured rule; with no rule nothing is deleted. Baselines, pinned sets and the newest
/// verified set are never deleted, whatever the rules say.
/// </summary>
public sealed record RetentionPolicy(int? KeepLast, TimeSpan? MaxAge)
{
    public static readonly TimeSpan MinimumMaxAge = TimeSpan.FromHours(1);

    /// <summary>Refuses settings that would delete every set (keep none, or an age of zero).</summary>
    public void Validate()
    {
        if (KeepLast is < 1)
        {
            throw new ScheduleValidationException($"\"Keep last {KeepLast}\" would delete every backup of the schedule. Keep at least 1, or leave it empty.");
        }

        if (MaxAge is { } age && age < MinimumMaxAge)
        {
            throw new ScheduleValidationException($"A maximum age of {age} would delete every backup as soon as it is made. Use at least 1 hour, or leave it empty.");
        }
    }

    /// <summary>The sets to delete, given every candidate of one schedule.</summary>
    public IReadOnlyList<Guid> SelectForDeletion(IEnumerable<RetentionCandidate> candidates, DateTimeOffset now)
    {
        Validate();
        if (KeepLast is null && MaxAge is null)
        {
            return [];
        }

        var newestFirst = candidates.OrderByDescending(c => c.CreatedAt).ToList();
        var newestVerified = newestFirst.FirstOrDefault(c => c.Verified)?.Id;
        return newestFirst
            .Where((c, index) =>
                !c.Pinned && !c.IsBaseline && c.Id != newestVerified
                && (KeepLast is null || index >= KeepLast)
                && (MaxAge is null || now - c.CreatedAt > MaxAge))
            .Select(c => c.Id)
            .ToList();
    }
}
