namespace GrafanaPanel.Web.Features.Schedules;

/// <summary>
/// What every schedule has, whatever its runs do: a unique name, a five-field cron in a time zone, a paused flag.
/// Backup and reset schedules add the fields of their own runs.
/// </summary>
public interface ISchedule
{
    Guid Id { get; set; }

    string Name { get; set; }

    /// <summary>Five-field cron, validated by <see cref="CronSchedule"/>.</summary>
    string Cron { get; set; }

    /// <summary>IANA time zone the cron is read in.</summary>
    string TimeZone { get; set; }

    /// <summary>A paused schedule keeps its settings but has no recurring job.</summary>
    bool Paused { get; set; }

    DateTimeOffset CreatedAt { get; set; }

    string CreatedBy { get; set; }
}

/// <summary>One firing of a schedule: the Hangfire job a schedule's recurring job calls with the schedule's id.</summary>
public interface IScheduledRun
{
    Task RunAsync(Guid scheduleId, CancellationToken ct);
}

/// <summary>The checked name, cron and time zone of a schedule form.</summary>
public sealed record ScheduleTiming(string Name, CronSchedule Cron, string TimeZone)
{
    public const int MaxNameLength = 100;

    /// <summary>
    /// Checks the fields every schedule has. <paramref name="nameTaken"/> says whether another schedule of the same
    /// kind has the name; <paramref name="kind"/> names that kind in the refusal ("schedule", "reset schedule").
    /// </summary>
    public static async Task<ScheduleTiming> CheckAsync(
        string? name, string? cron, string? timeZone, DateTimeOffset now, string kind, Func<string, Task<bool>> nameTaken)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length is 0 or > MaxNameLength || trimmed.Any(char.IsControl))
        {
            throw new ScheduleValidationException($"Give the schedule a name of 1 to {MaxNameLength} characters.");
        }

        if (await nameTaken(trimmed))
        {
            throw new ScheduleValidationException($"A {kind} named \"{trimmed}\" already exists.");
        }

        var parsed = CronSchedule.Parse(cron, timeZone, now);
        return new ScheduleTiming(trimmed, parsed, string.IsNullOrWhiteSpace(timeZone) ? "UTC" : timeZone.Trim());
    }

    /// <summary>Writes the checked fields into the schedule.</summary>
    public void ApplyTo(ISchedule schedule)
    {
        schedule.Name = Name;
        schedule.Cron = Cron.Text;
        schedule.TimeZone = TimeZone;
    }
}
