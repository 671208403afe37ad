using System.Threading.Channels;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Components.Web.Virtualization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Stack;

public sealed class LogViewerTests : PanelTestContext
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private readonly Channel<LogLine> _live = Channel.CreateUnbounded<LogLine>();

    public LogViewerTests()
    {
        var snapshot = new StackSnapshot(Options.Create(new StackOptions()), TimeProvider.System);
        snapshot.ReplaceContainers([Container("grafana")]);
        Services.AddSingleton(snapshot);
        Services.AddSingleton<StackLogs>();
        Engine.Logs["grafana-id"] = [Line(1, "starting"), Line(2, "listening on :3000"), Line(3, "ready")];
        Engine.LiveLogs["grafana-id"] = _live;
    }

    [Fact]
    public void Shows_the_tail_through_Virtualize_one_row_per_line()
    {
        var viewer = Render<LogViewer>(p => p.Add(v => v.Services, ["grafana"]));

        viewer.WaitForAssertion(() => Assert.Equal(3, viewer.FindComponents<LogLineRow>().Count));
        Assert.NotNull(viewer.FindComponent<Virtualize<ServiceLogLine>>());
        Assert.Equal(["starting", "listening on :3000", "ready"], viewer.FindAll(".log-text").Select(t => t.TextContent));
    }

    [Fact]
    public async Task A_followed_line_is_added_without_rendering_the_lines_already_shown_again()
    {
        var viewer = Render<LogViewer>(p => p.Add(v => v.Services, ["grafana"]));
        viewer.WaitForAssertion(() => Assert.Equal(3, viewer.FindComponents<LogLineRow>().Count));

        await _live.Writer.WriteAsync(Line(4, "GET /api/health 200"));
        await _live.Writer.WriteAsync(Line(5, "GET /api/dashboards 200"));

        viewer.WaitForAssertion(() => Assert.Equal(5, viewer.FindComponents<LogLineRow>().Count));
        var rows = viewer.FindComponents<LogLineRow>();
        Assert.Equal("GET /api/dashboards 200", rows[^1].Find(".log-text").TextContent);
        Assert.All(rows.Take(3), row => Assert.Equal(1, row.RenderCount));
    }

    [Fact]
    public void The_search_box_shows_only_matching_lines()
    {
        var viewer = Render<LogViewer>(p => p.Add(v => v.Services, ["grafana"]));
        viewer.WaitForAssertion(() => Assert.Equal(3, viewer.FindComponents<LogLineRow>().Count));

        viewer.Find("input[data-test=log-search], [data-test=log-search] input").Input("LISTENING");

        viewer.WaitForAssertion(() => Assert.Equal(["listening on :3000"], viewer.FindAll(".log-text").Select(t => t.TextContent)));
    }

    private static LogLine Line(int second, string text) => new(Start.AddSeconds(second), LogStream.Stdout, text);
}
