using System.Diagnostics;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.IntegrationTests.Resets;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Hosting;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace GrafanaPanel.IntegrationTests.Telemetry;

/// <summary>
/// A reset records its failure in its run instead of throwing, so Hangfire sees its job succeed: the portal's job
/// metrics and the job's span must still say it failed. A real reset on the real engine, of a service whose health
/// check never passes.
/// </summary>
public sealed class ResetFailureTelemetryTests
{
    private const string Failures = "grafanapanel_job_failures_total{job=\"reset\"}";
    private const string FailedRuns = "grafanapanel_job_duration_seconds_count{job=\"reset\",outcome=\"failure\"}";

    [Fact]
    public async Task A_reset_marked_failed_counts_as_a_failed_reset_job_and_its_span_is_an_error_with_outcome_failure()
    {
        var spans = new SpanStore();
        await using var lab = await ResetLab.StartAsync(appHealth: "echo database not reachable; exit 1", healthTimeout: "00:00:04",
            testServices: services => services.AddPanelTracing(tracing => tracing.AddInMemoryExporter(spans)));
        using var client = lab.App.CreateClient();
        // The meter and the registry are the test process's: other portals of this run may have counted resets before.
        var failuresBefore = await Scrape.ValueAsync(client, Failures) ?? 0;
        var failedRunsBefore = await Scrape.ValueAsync(client, FailedRuns) ?? 0;
        var (service, scope) = await lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;

        var run = await lab.FinishedAsync(await service.RequestResetAsync(new ResetRequest(null, ["app"], SafetyBackup: false, Confirmation: null)));

        Assert.Equal(ResetStatus.Failed, run.Status);
        Assert.StartsWith("app did not become healthy within 4 s", run.Error);
        // The job's span ends when Hangfire's filter sees the job return, just after the run is recorded.
        var job = await Eventually.ReturnsAsync(() => Task.FromResult(spans.Snapshot().SingleOrDefault(s => s.DisplayName == "job reset")),
            s => s is not null, TimeSpan.FromSeconds(30), "the reset job's span");
        Assert.Equal(ActivityStatusCode.Error, job!.Status);
        Assert.Equal(run.Error, job.StatusDescription);
        Assert.Equal("failure", job.GetTagItem("outcome"));
        Assert.Equal(typeof(ResetFailedException).FullName, job.GetTagItem("error.type"));
        var step = Assert.Single(spans.Snapshot(), s => s.DisplayName == "reset run" && s.TraceId == job.TraceId);
        Assert.Equal(job.SpanId, step.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, step.Status);

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Equal(failuresBefore + 1, Scrape.Value(metrics, Failures));
        Assert.Equal(failedRunsBefore + 1, Scrape.Value(metrics, FailedRuns));
        // Hangfire itself saw the job return: only the portal's filter knows the reset failed.
        using var connection = lab.App.Services.GetRequiredService<JobStorage>().GetConnection();
        Assert.Equal(SucceededState.StateName, connection.GetStateData(job.GetTagItem("job.id") as string)?.Name);
    }
}
