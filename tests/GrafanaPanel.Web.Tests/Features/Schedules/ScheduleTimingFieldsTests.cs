using GrafanaPanel.Web.Features.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GrafanaPanel.Web.Tests.Features.Schedules;

public sealed class ScheduleTimingFieldsTests : PanelTestContext
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    public ScheduleTimingFieldsTests()
    {
        Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        UseInteractiveServerRenderer();
    }

    [Fact]
    public void The_fields_show_words_and_next_runs_and_report_problems_as_they_come_and_go()
    {
        string? cron = "0,30 * * * *";
        string? zone = "Europe/Berlin";
        var problems = new List<string?>();
        var fields = Render<ScheduleTimingFields>(p => p
            .Add(f => f.Cron, cron)
            .Add(f => f.CronChanged, value => cron = value)
            .Add(f => f.TimeZone, zone)
            .Add(f => f.TimeZoneChanged, value => zone = value)
            .Add(f => f.ProblemChanged, problem => problems.Add(problem))
            .Add(f => f.TestId, "reset-schedule"));

        Assert.Equal("at minutes 0 and 30 of every hour, every day (Europe/Berlin)", fields.Find("[data-test=reset-schedule-words]").TextContent);
        Assert.Equal(["2026-03-02 11:30 +01:00", "2026-03-02 12:00 +01:00"], fields.FindAll("[data-test=reset-schedule-next] li").Take(2).Select(li => li.TextContent));
        Assert.Empty(problems);

        fields.Find("input[data-test=reset-schedule-cron], [data-test=reset-schedule-cron] input").Input("0 2 ? * *");
        Assert.Equal("0 2 ? * *", cron);
        fields.Render(p => p.Add(f => f.Cron, cron));
        Assert.Contains("Quartz", Assert.Single(problems));
        Assert.Empty(fields.FindAll("[data-test=reset-schedule-words]"));

        fields.Render(p => p.Add(f => f.Cron, "0 2 * * 1,3"));
        Assert.Null(problems[^1]);
        Assert.Equal("at 02:00, on Monday and Wednesday (Europe/Berlin)", fields.Find("[data-test=reset-schedule-words]").TextContent);
    }
}
