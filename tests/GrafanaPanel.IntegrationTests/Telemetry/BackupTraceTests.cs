using System.Diagnostics;
using System.Text.RegularExpressions;

namespace GrafanaPanel.IntegrationTests.Telemetry;

/// <summary>
/// A backup started through the portal's HTTP API is one trace: the request, the queued job, the job's steps and
/// its Docker calls; the backup duration's exemplar names that trace.
/// </summary>
[Collection(TelemetryFixture.Collection)]
public sealed class BackupTraceTests(TelemetryFixture fixture)
{
    private Activity Request => Assert.Single(fixture.Spans.Snapshot(),
        s => s.Kind == ActivityKind.Server && s.GetTagItem("http.request.method") as string == "POST" && s.GetTagItem("url.path") as string == "/api/v1/backups/sets");

    private Activity Job => Assert.Single(fixture.Spans.Snapshot(), s => s.DisplayName == "job backup");

    /// <summary>Whether <paramref name="span"/> descends from <paramref name="ancestor"/> through exported spans.</summary>
    private bool DescendsFrom(Activity span, Activity ancestor)
    {
        var bySpanId = fixture.Spans.Snapshot().Where(s => s.TraceId == ancestor.TraceId).ToDictionary(s => s.SpanId);
        for (var parent = span.ParentSpanId; bySpanId.TryGetValue(parent, out var up); parent = up.ParentSpanId)
        {
            if (up.SpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    [Fact]
    public void The_backup_job_continues_the_trace_of_the_request_that_queued_it()
    {
        var request = Request;
        var job = Job;

        Assert.Equal(request.TraceId, job.TraceId);
        Assert.True(DescendsFrom(job, request), "the job's span sits under the request's span");
        var queue = Assert.Single(fixture.Spans.Snapshot(), s => s.DisplayName == "queue backup" && s.TraceId == request.TraceId);
        Assert.Equal(ActivityKind.Producer, queue.Kind);
        Assert.Equal(queue.SpanId, job.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, job.Kind);
        Assert.Equal("success", job.GetTagItem("outcome"));
        Assert.Equal(fixture.SetId.ToString(), job.GetTagItem("backup.set_id"));
    }

    [Fact]
    public void The_jobs_steps_and_docker_calls_are_spans_under_the_job_with_volume_bytes_and_outcome()
    {
        var job = Job;
        var spans = fixture.Spans.Snapshot().Where(s => s.TraceId == job.TraceId).ToList();

        var read = Assert.Single(spans, s => s.DisplayName == "backup read volume");
        Assert.True(DescendsFrom(read, job));
        Assert.Equal(fixture.Volume, read.GetTagItem("volume"));
        Assert.True(read.GetTagItem("bytes") is long bytes && bytes > 0, $"bytes: {read.GetTagItem("bytes")}");
        Assert.Equal("success", read.GetTagItem("outcome"));
        var write = Assert.Single(spans, s => s.DisplayName == "backup write set");
        Assert.True(DescendsFrom(write, job));

        string[] dockerCalls = ["docker CreateHelperContainerAsync", "docker GetArchiveAsync", "docker RemoveContainerAsync"];
        foreach (var call in dockerCalls)
        {
            var calls = spans.Where(s => s.DisplayName == call).ToList();
            Assert.NotEmpty(calls);
            Assert.All(calls, span =>
            {
                Assert.Equal(ActivityKind.Client, span.Kind);
                Assert.True(DescendsFrom(span, job), $"{call} sits under the job");
                Assert.Equal("success", span.GetTagItem("outcome"));
            });
        }

        Assert.Contains(spans, s => s.Source.Name == "Npgsql" && DescendsFrom(s, job));
    }

    [Fact]
    public void The_backup_duration_carries_the_jobs_trace_as_an_exemplar_in_OpenMetrics()
    {
        var exemplars = Regex.Matches(fixture.OpenMetrics, @"^grafanapanel_backup_duration_seconds_bucket\{[^}]*\} \d+ # \{([^}]*)\}", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToList();

        Assert.Contains(exemplars, e => e.Contains($"trace_id=\"{Job.TraceId.ToHexString()}\"", StringComparison.Ordinal));
    }
}
