using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace GrafanaPanel.Web.Telemetry;

/// <summary>
/// The portal's own traces and metrics: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>. The meter is published on /metrics by prometheus-net's meter adapter as
/// <c>grafanapanel_&lt;instrument&gt;</c> (see docs/observability.md for the list); spans leave the process over OTLP
/// only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class PanelTelemetry
{
    public const string Name = "GrafanaPanel";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Seconds a background job took, by <c>job</c> (backup, restore, verify, reset, retention, schedule…) and <c>outcome</c>.</summary>
    public static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>(
        "job_duration_seconds", "s", "Duration of the portal's background jobs, by job and outcome.");

    /// <summary>Bytes a backup wrote, a restore or a reset put back, by <c>job</c>.</summary>
    public static readonly Histogram<long> JobBytes = Meter.CreateHistogram<long>(
        "job_bytes", "By", "Bytes a backup wrote or a restore or reset put back, by job.");

    /// <summary>Failed background jobs, by <c>job</c> (exported as a gauge that only grows until the portal restarts).</summary>
    public static readonly Counter<long> JobFailures = Meter.CreateCounter<long>(
        "job_failures_total", null, "Background jobs that failed, by job.");

    /// <summary>Seconds a Docker engine call took, by <c>operation</c> and <c>outcome</c>.</summary>
    public static readonly Histogram<double> DockerCallDuration = Meter.CreateHistogram<double>(
        "docker_call_duration_seconds", "s", "Duration of Docker engine calls, by operation and outcome.");

    /// <summary>Seconds a Grafana HTTP API call took, by <c>operation</c> (method and API area) and <c>outcome</c>.</summary>
    public static readonly Histogram<double> GrafanaCallDuration = Meter.CreateHistogram<double>(
        "grafana_call_duration_seconds", "s", "Duration of Grafana HTTP API calls, by operation and outcome.");

    /// <summary>Seconds a health probe of a lab service took, by <c>service</c> and <c>outcome</c>.</summary>
    public static readonly Histogram<double> ProbeDuration = Meter.CreateHistogram<double>(
        "probe_duration_seconds", "s", "Duration of the health probes of the lab's services, by service and outcome.");

    public const string Succeeded = "success";
    public const string Failed = "failure";

    /// <summary>Histogram buckets for the meter's instruments on /metrics.</summary>
    public static double[]? BucketsFor(Instrument instrument) => instrument.Meter.Name != Name
        ? null
        : instrument.Unit switch
        {
            // 64 KiB … 64 GiB
            "By" => Prometheus.Histogram.ExponentialBuckets(64 * 1024, 4, 11),
            // Jobs: 0.25 s … about 4.5 h. Calls and probes: 1 ms … about 65 s.
            _ when instrument.Name.StartsWith("job_", StringComparison.Ordinal) => Prometheus.Histogram.ExponentialBuckets(0.25, 2, 17),
            _ => Prometheus.Histogram.ExponentialBuckets(0.001, 2, 17),
        };

    /// <summary>Records a job's end: its duration, and a failure when it did not succeed.</summary>
    public static void JobEnded(string job, TimeSpan duration, bool succeeded)
    {
        var outcome = succeeded ? Succeeded : Failed;
        JobDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("job", job), new KeyValuePair<string, object?>("outcome", outcome));
        if (!succeeded)
        {
            JobFailures.Add(1, new KeyValuePair<string, object?>("job", job));
        }
    }

    /// <summary>Marks <paramref name="activity"/> failed with the exception's message (no stack trace, no secret).</summary>
    public static void Fail(this Activity? activity, Exception ex)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, ex.Message);
        activity.SetTag("outcome", Failed);
        activity.SetTag("error.type", ex.GetType().FullName);
    }

    /// <summary>Marks <paramref name="activity"/> succeeded.</summary>
    public static void Succeed(this Activity? activity) => activity?.SetTag("outcome", Succeeded);
}
