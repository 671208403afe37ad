using GrafanaPanel.Web.Features.Schedules;

namespace GrafanaPanel.Web.Tests.Features.Schedules;

public sealed class CronScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 0 2 * * *", "six fields")]
    [InlineData("0 2 ? * MON", "Quartz")]
    [InlineData("0 2 * *", "4 field(s)")]
    [InlineData("", "five fields")]
    [InlineData("   ", "five fields")]
    [InlineData("0 2 30 2 *", "never fires")]
    [InlineData("61 2 * * *", "not a valid cron expression")]
    [InlineData("0 25 * * *", "not a valid cron expression")]
    public void Bad_expressions_are_refused_with_a_message_naming_the_problem(string expression, string expected)
    {
        var error = Assert.Throws<ScheduleValidationException>(() => CronSchedule.Parse(expression, "UTC", Now));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void An_unknown_time_zone_is_refused()
    {
        var error = Assert.Throws<ScheduleValidationException>(() => CronSchedule.Parse("0 2 * * *", "Mars/Olympus", Now));

        Assert.Contains("Mars/Olympus", error.Message);
    }

    [Fact]
    public void The_next_five_runs_are_computed_in_the_schedules_time_zone()
    {
        var schedule = CronSchedule.Parse("0 2 * * *", "Europe/Berlin", Now);

        var runs = schedule.Next(Now, 5);

        Assert.Equal(5, runs.Count);
        Assert.All(runs, r => Assert.Equal(2, TimeZoneInfo.ConvertTime(r, schedule.Zone).Hour));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 1, 0, 0, TimeSpan.Zero), runs[0].ToUniversalTime());
        Assert.True(runs.Zip(runs.Skip(1)).All(p => p.Second - p.First == TimeSpan.FromDays(1)));
    }

    [Theory]
    [InlineData("0 2 * * *", "at 02:00, every day (UTC)")]
    [InlineData("*/15 * * * 1-5", "every 15 minutes, on Monday to Friday (UTC)")]
    [InlineData("30 * * * *", "at minute 30 of every hour, every day (UTC)")]
    [InlineData("0 7 1 * *", "at 07:00, on day 1 of the month (UTC)")]
    public void The_expression_is_described_in_words(string expression, string words)
    {
        Assert.Equal(words, CronSchedule.Parse(expression, "UTC", Now).Describe());
    }

    [Theory]
    [InlineData("0,30 * * * *", "at minutes 0 and 30 of every hour, every day (UTC)")]
    [InlineData("0,15,30,45 * * * *", "at minutes 0, 15, 30 and 45 of every hour, every day (UTC)")]
    [InlineData("10-20 * * * *", "at minutes 10 to 20 of every hour, every day (UTC)")]
    [InlineData("5-55/10 * * * *", "every 10 minutes from minute 5 to 55 of every hour, every day (UTC)")]
    [InlineData("* * * * *", "every minute, every day (UTC)")]
    [InlineData("*/15 9-17 * * 1-5", "every 15 minutes between 09:00 and 17:59, on Monday to Friday (UTC)")]
    [InlineData("*/10 9 * * *", "every 10 minutes between 09:00 and 09:59, every day (UTC)")]
    [InlineData("0 9,13 * * *", "at 09:00 and 13:00, every day (UTC)")]
    [InlineData("0,30 9,13 * * *", "at 09:00, 09:30, 13:00 and 13:30, every day (UTC)")]
    [InlineData("0 8,10,12,14,16,18,20 * * *", "at minute 0 in hours 08, 10, 12, 14, 16, 18 and 20, every day (UTC)")]
    [InlineData("30 */6 * * *", "at minute 30, every 6 hours, every day (UTC)")]
    [InlineData("*/20 */2 * * *", "every 20 minutes in hours 00, 02, 04, 06, 08, 10, 12, 14, 16, 18, 20 and 22, every day (UTC)")]
    [InlineData("30 2 1 */3 *", "at 02:30, on day 1 of the month, in January, April, July and October (UTC)")]
    [InlineData("0 6 1,15 * *", "at 06:00, on days 1 and 15 of the month (UTC)")]
    [InlineData("0 6 1-7 * *", "at 06:00, on days 1 to 7 of the month (UTC)")]
    [InlineData("0 6 */2 * *", "at 06:00, on every 2nd day of the month (UTC)")]
    [InlineData("0 6 L * *", "at 06:00, on the last day of the month (UTC)")]
    [InlineData("0 2 * * 1,3", "at 02:00, on Monday and Wednesday (UTC)")]
    [InlineData("0 2 * * MON-FRI", "at 02:00, on Monday to Friday (UTC)")]
    [InlineData("0 2 * * sat,SUN", "at 02:00, on Saturday and Sunday (UTC)")]
    [InlineData("0 2 * * 0,7", "at 02:00, on Sunday and Sunday (UTC)")]
    [InlineData("0 2 * * */2", "at 02:00, on Sunday, Tuesday, Thursday and Saturday (UTC)")]
    [InlineData("0 2 * * 5L", "at 02:00, on the last Friday of the month (UTC)")]
    [InlineData("0 2 * * 1#2", "at 02:00, on the 2nd Monday of the month (UTC)")]
    [InlineData("0 2 * JAN,jul *", "at 02:00, every day, in January and July (UTC)")]
    [InlineData("0 2 * 6-8 *", "at 02:00, every day, in June to August (UTC)")]
    [InlineData("0 2 * DEC *", "at 02:00, every day, in December (UTC)")]
    public void Lists_ranges_steps_and_names_are_spelled_out(string expression, string words)
    {
        Assert.Equal(words, CronSchedule.Parse(expression, "UTC", Now).Describe());
    }

    [Fact]
    public void A_time_zone_other_than_utc_is_named()
    {
        Assert.Equal("at 02:00, every day (Europe/Berlin)", CronSchedule.Parse("0 2 * * *", "Europe/Berlin", Now).Describe());
    }

    [Fact]
    public void Day_of_month_and_day_of_week_together_mean_days_matching_both()
    {
        var schedule = CronSchedule.Parse("0 2 1 * 1", "UTC", Now);

        var days = schedule.Next(Now, 10).Select(r => (r.Day, r.DayOfWeek)).ToList();

        // Cronos runs on the days matching both fields (not either one, as Vixie cron does).
        Assert.All(days, d => Assert.Equal((1, DayOfWeek.Monday), d));
        Assert.Equal("at 02:00, on day 1 of the month when it falls on Monday (UTC)", schedule.Describe());
    }

    [Theory]
    [InlineData(2026, 11, 26)] // a Thursday: the next two runs are Monday and Wednesday, 2 days apart
    [InlineData(2026, 11, 30)] // a Monday
    [InlineData(2026, 12, 2)] // a Wednesday, after 02:00
    [InlineData(2026, 12, 6)] // a Sunday
    public void The_longest_gap_of_a_monday_and_wednesday_schedule_is_five_days_whatever_the_day(int year, int month, int day)
    {
        var now = new DateTimeOffset(year, month, day, 10, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromDays(5), CronSchedule.Parse("0 2 * * 1,3", "UTC", now).LongestGap(now));
    }

    [Theory]
    [InlineData("*/15 * * * *", 0.25)]
    [InlineData("* 9-17 * * 1-5", 63 + (1 / 60.0))] // Friday 17:59 to Monday 09:00, beyond the first 60 runs
    [InlineData("0 2 * * *", 24)]
    [InlineData("*/15 9-17 * * 1-5", 63.25)] // Friday 17:45 to Monday 09:00
    [InlineData("30 2 1 */3 *", 24 * 92)] // 1 July to 1 October
    public void The_longest_gap_looks_at_a_window_of_runs(string expression, double hours)
    {
        Assert.Equal(TimeSpan.FromHours(hours), CronSchedule.Parse(expression, "UTC", Now).LongestGap(Now));
    }

    [Theory]
    [InlineData("0 2 * * *", 24)]
    [InlineData("0 2 * * 1,3", 24 * 5)]
    [InlineData("*/15 * * * *", 0.25)]
    public void A_clock_change_does_not_lengthen_the_longest_gap(string expression, double hours)
    {
        // The year ahead holds both of Berlin's clock changes.
        Assert.Equal(TimeSpan.FromHours(hours), CronSchedule.Parse(expression, "Europe/Berlin", Now).LongestGap(Now));
    }

    [Fact]
    public void The_longest_gap_of_a_yearly_schedule_is_a_year()
    {
        Assert.Equal(TimeSpan.FromDays(365), CronSchedule.Parse("0 0 1 1 *", "UTC", Now).LongestGap(Now));
    }

    [Fact]
    public void A_stored_schedule_that_cannot_be_read_shows_its_problem_in_place_of_words()
    {
        Assert.Contains("Mars/Olympus", CronSchedule.InWords("0 2 * * *", "Mars/Olympus", Now));
        Assert.Equal("at 02:00, every day (UTC)", CronSchedule.InWords("0 2 * * *", null, Now));
    }
}
