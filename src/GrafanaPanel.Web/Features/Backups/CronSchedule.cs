using System.Globalization;
using System.Text;
using Cronos;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>Thrown when a schedule's cron expression or time zone cannot be used; the message says what to write instead.</summary>
public sealed class ScheduleValidationException(string message) : Exception(message);

/// <summary>
/// A validated five-field cron expression (minute hour day-of-month month day-of-week) in a time zone, with its next
/// runs and a description in words. Cronos does the parsing and the arithmetic (daylight saving included).
/// </summary>
public sealed class CronSchedule
{
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

    /// <summary>The expression in words, e.g. "at 02:00, every day" or "every 15 minutes, on Monday to Friday".</summary>
    public string Describe()
    {
        var f = Text.Split(' ');
        var (minute, hour, day, month, weekday) = (f[0], f[1], f[2], f[3], f[4]);
        var words = new StringBuilder();
        if (IsNumber(minute) && IsNumber(hour))
        {
            words.Append(CultureInfo.InvariantCulture, $"at {int.Parse(hour, CultureInfo.InvariantCulture):00}:{int.Parse(minute, CultureInfo.InvariantCulture):00}");
        }
        else if (minute.StartsWith("*/", StringComparison.Ordinal) && hour == "*")
        {
            words.Append(CultureInfo.InvariantCulture, $"every {minute[2..]} minutes");
        }
        else if (IsNumber(minute) && hour == "*")
        {
            words.Append(CultureInfo.InvariantCulture, $"at minute {minute} of every hour");
        }
        else if (IsNumber(minute) && hour.StartsWith("*/", StringComparison.Ordinal))
        {
            words.Append(CultureInfo.InvariantCulture, $"at minute {minute}, every {hour[2..]} hours");
        }
        else
        {
            words.Append(CultureInfo.InvariantCulture, $"at minute {minute}, hour {hour}");
        }

        words.Append(day == "*" && weekday == "*" ? ", every day" : "");
        if (day != "*")
        {
            words.Append(CultureInfo.InvariantCulture, $", on day {day} of the month");
        }

        if (weekday != "*")
        {
            words.Append(", on ").Append(Weekdays(weekday));
        }

        if (month != "*")
        {
            words.Append(CultureInfo.InvariantCulture, $", in month {month}");
        }

        words.Append(Zone == TimeZoneInfo.Utc ? " (UTC)" : $" ({Zone.Id})");
        return words.ToString();
    }

    private static bool IsNumber(string field) => field.All(char.IsAsciiDigit);

    private static string Weekdays(string field)
    {
        string[] names = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
        string Name(string part) => int.TryParse(part, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 7 ? names[n] : part;
        return string.Join(", ", field.Split(',').Select(part =>
            part.Split('-') is [var from, var to] ? $"{Name(from)} to {Name(to)}" : Name(part)));
    }
}
