using Cronos;

namespace GrafanaPanel.Web.Features.Schedules;

/// <summary>Thrown when a schedule's cron expression or time zone cannot be used; the message says what to write instead.</summary>
public sealed class ScheduleValidationException(string message) : PanelRefusalException(message);

/// <summary>
/// A validated five-field cron expression (minute hour day-of-month month day-of-week) in a time zone, with its next
/// runs and a description in words. Cronos does the parsing and the arithmetic (daylight saving included).
/// </summary>
public sealed class CronSchedule
{
    /// <summary>
    /// The most runs <see cref="LongestGap"/> looks at: enough for two weeks of a schedule that runs every minute, so
    /// a weekend without runs is always seen.
    /// </summary>
    public const int GapWindow = 20_000;

    private readonly CronExpression _expression;

    private CronSchedule(string text, CronExpression expression, TimeZoneInfo zone)
    {
        Text = text;
        _expression = expression;
        Zone = zone;
    }

    public string Text { get; }

    public TimeZoneInfo Zone { get; }

    /// <summary>Parses and checks an expression; every refusal names the problem and shows the expected form.</summary>
    public static CronSchedule Parse(string? expression, string? timeZone, DateTimeOffset now)
    {
        var text = (expression ?? "").Trim();
        if (text.Length == 0)
        {
            throw new ScheduleValidationException("Enter a cron expression with five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\" for 02:00 every day.");
        }

        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 6)
        {
            throw new ScheduleValidationException($"\"{text}\" has six fields; seconds are not supported. Use five: minute hour day-of-month month day-of-week.");
        }

        if (fields.Length != 5)
        {
            throw new ScheduleValidationException($"\"{text}\" has {fields.Length} field(s); a schedule needs five: minute hour day-of-month month day-of-week.");
        }

        if (text.Contains('?'))
        {
            throw new ScheduleValidationException($"\"{text}\" uses '?', which is Quartz syntax. Write '*' instead.");
        }

        CronExpression parsed;
        try
        {
            parsed = CronExpression.Parse(string.Join(' ', fields), CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            throw new ScheduleValidationException($"\"{text}\" is not a valid cron expression: {ex.Message}");
        }

        var zone = ResolveZone(timeZone);
        var schedule = new CronSchedule(string.Join(' ', fields), parsed, zone);
        if (schedule.Next(now, 1).Count == 0)
        {
            throw new ScheduleValidationException($"\"{text}\" never fires (for example the 30th of February). Choose a date that exists.");
        }

        return schedule;
    }

    public static TimeZoneInfo ResolveZone(string? timeZone)
    {
        if (string.IsNullOrWhiteSpace(timeZone))
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(timeZone.Trim());
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ScheduleValidationException($"Unknown time zone \"{timeZone}\". Use an IANA name such as \"Europe/Berlin\" or \"UTC\".");
        }
    }

    /// <summary>A stored schedule's cron in words, or what is wrong with it (for tables of schedules).</summary>
    public static string InWords(string? expression, string? timeZone, DateTimeOffset now)
    {
        try
        {
            return Parse(expression, timeZone, now).Describe();
        }
        catch (ScheduleValidationException e)
        {
            return e.Message;
        }
    }

    /// <summary>The next <paramref name="count"/> runs after <paramref name="after"/>, in the schedule's time zone.</summary>
    public IReadOnlyList<DateTimeOffset> Next(DateTimeOffset after, int count)
    {
        var result = new List<DateTimeOffset>(count);
        var from = after;
        // Cronos looks up to a few years ahead; a schedule with no occurrence there is treated as never firing.
        while (result.Count < count && _expression.GetNextOccurrence(from, Zone) is { } next)
        {
            result.Add(next);
            from = next;
        }

        return result;
    }

    /// <summary>
    /// The longest time between two consecutive runs over the next year or the next <see cref="GapWindow"/> runs,
    /// whichever ends first (at least two runs): how long the schedule may go without a run. <c>0 2 * * 1,3</c> is
    /// 5 days (Wednesday to Monday) whichever day it is now, <c>*/15 9-17 * * 1-5</c> the weekend; a schedule with a
    /// single run left reports a year. Computed in the schedule's time zone, ignoring the hour a clock change adds.
    /// </summary>
    public TimeSpan LongestGap(DateTimeOffset after)
    {
        var end = after.AddYears(1);
        var runs = new List<DateTimeOffset>();
        var from = after;
        while (runs.Count < GapWindow && _expression.GetNextOccurrence(from, Zone) is { } next && (runs.Count < 2 || next <= end))
        {
            runs.Add(next);
            from = next;
        }

        // A clock change does not lengthen a gap: 02:00 daily stays 24 hours across the night the clocks go back.
        TimeSpan Gap(DateTimeOffset first, DateTimeOffset second) => TimeSpan.FromTicks(Math.Min(
            (second - first).Ticks, (TimeZoneInfo.ConvertTime(second, Zone).DateTime - TimeZoneInfo.ConvertTime(first, Zone).DateTime).Ticks));
        return runs.Count < 2 ? TimeSpan.FromDays(365) : runs.Zip(runs.Skip(1), Gap).Max();
    }

    /// <summary>The expression in words, e.g. "at 02:00, every day (UTC)" or "at minutes 0 and 30 of every hour, every day (UTC)".</summary>
    public string Describe() => CronWords.Describe(Text, Zone);
}
