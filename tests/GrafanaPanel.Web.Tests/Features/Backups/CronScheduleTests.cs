using GrafanaPanel.Web.Features.Backups;

namespace GrafanaPanel.Web.Tests.Features.Backups;

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
}
