using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Schedules;

/// <summary>
/// The steps of creating, changing, pausing and deleting a schedule that every kind shares: the row first, then its
/// recurring job. A kind supplies how its own fields are checked and written (<c>apply</c>) and how its recurring job
/// is kept in line (<c>sync</c>, <c>remove</c>); the role check and audit stay with the kind's service.
/// </summary>
public static class ScheduleSteps
{
    public static async Task<Guid> CreateAsync<TSchedule>(
        DbContext db, string user, TimeProvider time, Func<TSchedule, Task> apply, Action<TSchedule> sync, CancellationToken ct)
        where TSchedule : class, ISchedule, new()
    {
        var schedule = new TSchedule { Id = Guid.NewGuid(), CreatedAt = time.GetUtcNow(), CreatedBy = user };
        await apply(schedule);
        db.Add(schedule);
        await db.SaveChangesAsync(ct);
        sync(schedule);
        return schedule.Id;
    }

    public static async Task UpdateAsync<TSchedule>(DbContext db, TSchedule schedule, Func<TSchedule, Task> apply, Action<TSchedule> sync, CancellationToken ct)
        where TSchedule : class, ISchedule
    {
        await apply(schedule);
        await db.SaveChangesAsync(ct);
        sync(schedule);
    }

    /// <summary>Pausing removes the recurring job, resuming registers it again (through <paramref name="sync"/>).</summary>
    public static async Task SetPausedAsync<TSchedule>(DbContext db, TSchedule schedule, bool paused, Action<TSchedule> sync, CancellationToken ct)
        where TSchedule : class, ISchedule
    {
        schedule.Paused = paused;
        await db.SaveChangesAsync(ct);
        sync(schedule);
    }

    public static async Task DeleteAsync<TSchedule>(DbContext db, TSchedule schedule, Action<TSchedule> remove, CancellationToken ct)
        where TSchedule : class, ISchedule
    {
        db.Remove(schedule);
        await db.SaveChangesAsync(ct);
        remove(schedule);
    }

    /// <summary>Registers every schedule's recurring job at start-up; one that cannot be read is logged and skipped.</summary>
    public static void SyncAll<TSchedule>(IEnumerable<TSchedule> schedules, Action<TSchedule> sync, string kind, ILogger logger)
        where TSchedule : ISchedule
    {
        foreach (var schedule in schedules)
        {
            try
            {
                sync(schedule);
            }
            catch (ScheduleValidationException ex)
            {
                logger.LogError("{Kind} {Name} cannot be registered: {Problem}", kind, schedule.Name, ex.Message);
            }
        }
    }
}
