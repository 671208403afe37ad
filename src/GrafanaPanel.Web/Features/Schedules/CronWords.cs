using System.Globalization;

namespace GrafanaPanel.Web.Features.Schedules;

/// <summary>
/// A validated five-field cron expression in words: "at 02:00, every day (UTC)", "at minutes 0 and 30 of every
/// hour", "every 15 minutes between 09:00 and 17:59, on Monday to Friday". Lists, ranges, steps and the names of
/// months and weekdays are spelled out; anything unusual is shown as written.
/// </summary>
internal static class CronWords
{
    private static readonly string[] MonthNames =
        ["", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    private static readonly string[] MonthShort = ["", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

    private static readonly string[] DayShort = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    public static string Describe(string expression, TimeZoneInfo zone)
    {
        var f = expression.Split(' ');
        var (minute, hour, day, month, weekday) = (f[0], f[1], f[2], f[3], f[4]);
        List<string> parts = [Time(minute, hour), Days(day, weekday)];
        if (month != "*")
        {
            parts.Add("in " + Listed(month, 1, 12, MonthOf, n => MonthNames[n]));
        }

        return string.Join(", ", parts) + (zone == TimeZoneInfo.Utc ? " (UTC)" : $" ({zone.Id})");
    }

    private static string Time(string minute, string hour)
    {
        if (Numbers(minute) is { } minutes && Numbers(hour) is { } hours && minutes.Count * hours.Count <= 6)
        {
            return "at " + And([.. hours.SelectMany(h => minutes.Select(m => Clock(h, m)))]);
        }

        if (hour == "*")
        {
            return minute switch
            {
                "*" => "every minute",
                _ when Step(minute) is (null, null, var n) => $"every {n} minutes",
                _ => Minutes(minute) + " of every hour",
            };
        }

        if (Number(minute) is { } at && Step(hour) is (null, null, var every))
        {
            return $"at minute {at}, every {every} hours";
        }

        var lead = minute switch
        {
            "*" => "every minute",
            _ when Step(minute) is (null, null, var n) => $"every {n} minutes",
            _ => Minutes(minute),
        };
        return lead + " " + Hours(hour);
    }

    private static string Minutes(string field)
    {
        if (Numbers(field) is { } numbers)
        {
            return numbers.Count == 1 ? $"at minute {numbers[0]}" : $"at minutes {And([.. numbers.Select(Text)])}";
        }

        if (!field.Contains(',') && Step(field) is (var from, var to, var n))
        {
            return $"every {n} minutes from minute {from}" + (to is null ? "" : $" to {to}");
        }

        return "at minutes " + Items(field, Number, Text);
    }

    private static string Hours(string field)
    {
        if (!field.Contains(',') && !field.Contains('/') && field.Split('-') is [var a, var b] && Number(a) is { } from && Number(b) is { } to)
        {
            return $"between {Clock(from, 0)} and {Clock(to, 59)}";
        }

        if (Numbers(field) is { Count: 1 } single)
        {
            return $"between {Clock(single[0], 0)} and {Clock(single[0], 59)}";
        }

        return "in hours " + Listed(field, 0, 23, Number, h => h.ToString("00", CultureInfo.InvariantCulture));
    }

    /// <summary>The days a schedule runs on; with both day of month and day of week restricted, days matching both.</summary>
    private static string Days(string day, string weekday)
    {
        var ofMonth = day == "*" ? null : MonthDays(day);
        var ofWeek = weekday == "*" ? null : "on " + Weekdays(weekday);
        return (ofMonth, ofWeek) switch
        {
            (null, null) => "every day",
            ({ } d, null) => d,
            (null, { } w) => w,
            ({ } d, { } w) => $"{d} when it falls {w}",
        };
    }

    private static string MonthDays(string field) => field switch
    {
        "L" => "on the last day of the month",
        "LW" => "on the last weekday of the month",
        _ when field.EndsWith('W') && Number(field[..^1]) is { } near => $"on the weekday nearest day {near} of the month",
        _ when Number(field) is { } single => $"on day {single} of the month",
        _ when !field.Contains(',') && Step(field) is (var from, var to, var n) =>
            $"on every {Ordinal(n)} day of the month" + (from is null ? "" : $" from day {from}") + (to is null ? "" : $" to {to}"),
        _ => $"on days {Items(field, Number, Text)} of the month",
    };

    private static string Weekdays(string field)
    {
        if (field.EndsWith('L') && DayOf(field[..^1]) is { } last)
        {
            return $"the last {DayNames[last]} of the month";
        }

        if (field.Split('#') is [var d, var k] && DayOf(d) is { } nth && Number(k) is { } which)
        {
            return $"the {Ordinal(which)} {DayNames[nth]} of the month";
        }

        return Listed(field, 0, 6, DayOf, n => DayNames[n]);
    }

    /// <summary>A list of numbers or names; steps are spelled out as the values they select (months and days are few).</summary>
    private static string Listed(string field, int min, int max, Func<string, int?> parse, Func<int, string> name) =>
        field.Contains('/') && Expand(field, min, max, parse) is { Count: > 0 } values
            ? And([.. values.Select(name)])
            : Items(field, parse, name);

    private static string Items(string field, Func<string, int?> parse, Func<int, string> name) =>
        And([.. field.Split(',').Select(item =>
            item.Split('-') is [var a, var b] && parse(a) is { } from && parse(b) is { } to ? $"{name(from)} to {name(to)}"
            : parse(item) is { } single ? name(single)
            : item)]);

    /// <summary>The sorted values a field with steps selects, or null when a part cannot be read.</summary>
    private static List<int>? Expand(string field, int min, int max, Func<string, int?> parse)
    {
        var values = new SortedSet<int>();
        foreach (var item in field.Split(','))
        {
            var (range, step) = item.Split('/') is [var r, var s] && Number(s) is { } n && n > 0 ? (r, n) : (item, 1);
            int from, to;
            if (range == "*")
            {
                (from, to) = (min, max);
            }
            else if (range.Split('-') is [var a, var b] && parse(a) is { } x && parse(b) is { } y)
            {
                (from, to) = (x, y);
            }
            else if (parse(range) is { } single)
            {
                (from, to) = (single, step > 1 ? max : single);
            }
            else
            {
                return null;
            }

            for (var v = from; v <= to; v += step)
            {
                values.Add(v == 7 && max == 6 ? 0 : v);
            }
        }

        return [.. values];
    }

    /// <summary>"*/n", "a/n" or "a-b/n" as (from, to, n); null for anything else.</summary>
    private static (int? From, int? To, int N)? Step(string field)
    {
        if (field.Split('/') is not [var range, var step] || Number(step) is not { } n)
        {
            return null;
        }

        return range switch
        {
            "*" => (null, null, n),
            _ when range.Split('-') is [var a, var b] && Number(a) is { } from && Number(b) is { } to => (from, to, n),
            _ when Number(range) is { } from => (from, null, n),
            _ => null,
        };
    }

    private static List<int>? Numbers(string field)
    {
        var parts = field.Split(',').Select(Number).ToList();
        return parts.All(p => p is not null) ? [.. parts.Select(p => p!.Value)] : null;
    }

    private static int? Number(string text) =>
        text.Length is > 0 and <= 4 && text.All(char.IsAsciiDigit) ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    private static int? MonthOf(string text) =>
        Number(text) is { } n ? n : Array.IndexOf(MonthShort, text.ToUpperInvariant()) is > 0 and var i ? i : null;

    private static int? DayOf(string text) =>
        Number(text) is { } n ? n % 7 : Array.IndexOf(DayShort, text.ToUpperInvariant()) is >= 0 and var i ? i : null;

    private static string Clock(int hour, int minute) => string.Create(CultureInfo.InvariantCulture, $"{hour:00}:{minute:00}");

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Ordinal(int n) => (n % 100) switch
    {
        11 or 12 or 13 => $"{n}th",
        _ => (n % 10) switch { 1 => $"{n}st", 2 => $"{n}nd", 3 => $"{n}rd", _ => $"{n}th" },
    };

    private static string And(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1],
    };
}
