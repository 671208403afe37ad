using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Hosting;
using OpenTelemetry.Trace;

namespace GrafanaPanel.IntegrationTests.Telemetry;

/// <summary>
/// A click in a Blazor page and the job it queues are one trace: Chromium clicks "Back up now" then "Start" on the
/// Backups page of a real portal (real engine, real PostgreSQL) whose spans are exported in memory, and the backup
/// job's span sits under Blazor's own span for that click.
/// </summary>
public sealed class ClickTraceBrowserTests
{
    private const string Components = "Microsoft.AspNetCore.Components";

    [Fact]
    public async Task The_backup_job_is_in_the_trace_of_the_Blazor_click_that_queued_it()
    {
        await using var rig = await BackupRig.CreateAsync();
        var (volume, _) = await rig.VolumeWithServiceAsync("data", "app");
        var spans = new SpanStore();
        var portal = new EngineBackupAppFactory(rig.Project.Name)
        {
            RealPort = true,
            TestServices = services => services.AddPanelTracing(tracing => tracing.AddInMemoryExporter(spans)),
        };
        try
        {
            await portal.ReadyAsync(volume);
            await using var browser = await Infrastructure.Browser.LaunchAsync();
            var baseUrl = portal.ServerAddress.TrimEnd('/');
            var page = await (await browser.Instance.NewContextAsync()).NewPageAsync();
            await Infrastructure.Browser.SignInAsync(page, baseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
            await Infrastructure.Browser.GotoInteractiveAsync(page, $"{baseUrl}/backups");

            await page.ClickAsync("[data-test=backup-now]");
            await page.GetByLabel(volume).CheckAsync();
            await page.ClickAsync("[data-test=backup-start]");

            // The job's span ends when Hangfire's filter sees the job return.
            var job = await Eventually.ReturnsAsync(() => Task.FromResult(spans.Snapshot().SingleOrDefault(s => s.DisplayName == "job backup")),
                s => s is not null, EngineBackupAppFactory.Wait, "the backup job's span");
            var trace = spans.Snapshot().Where(s => s.TraceId == job!.TraceId).ToList();
            var click = Assert.Single(trace, s => s.Source.Name == Components);
            Assert.Equal($"{Components}.HandleEvent", click.OperationName);
            Assert.Equal("onclick", click.GetTagItem("aspnetcore.components.attribute.name"));
            Assert.Equal("/backups", click.GetTagItem("aspnetcore.components.route"));
            Assert.Equal(default, click.ParentSpanId);
            // Under the click: the set recorded in PostgreSQL, then the job queued.
            Assert.Contains(trace, s => s.Source.Name == "Npgsql" && s.ParentSpanId == click.SpanId);
            var queue = Assert.Single(trace, s => s.DisplayName == "queue backup");
            Assert.Equal(click.SpanId, queue.ParentSpanId);
            Assert.Equal(queue.SpanId, job!.ParentSpanId);
            Assert.Equal("success", job.GetTagItem("outcome"));
            Assert.Contains(trace, s => s.DisplayName == "backup write set");

            // Each click is a trace of its own: the one that opened the form queued nothing.
            var clicks = spans.Snapshot().Where(s => s.OperationName == $"{Components}.HandleEvent" && s.GetTagItem("aspnetcore.components.attribute.name") as string == "onclick").ToList();
            Assert.True(clicks.Count >= 2, $"{clicks.Count} click spans");
            Assert.Single(clicks, s => s.TraceId == job.TraceId);
            // The circuit's SignalR messages (render acknowledgements, JS interop replies) are not traced.
            Assert.DoesNotContain(spans.Snapshot(), s => s.Source.Name == "Microsoft.AspNetCore.SignalR.Server");
        }
        finally
        {
            await portal.DisposeAllAsync();
        }
    }
}
