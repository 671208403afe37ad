using Prometheus;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// Backup figures on /metrics. <c>grafanapanel_backup_last_success_timestamp_seconds{schedule}</c> and
/// <c>grafanapanel_backup_schedule_interval_seconds{schedule}</c> feed the GrafanaPanelBackupStale alert in deploy/;
/// a schedule that has not succeeded yet exports its creation time, so a new schedule is not stale at once.
/// </summary>
public sealed class BackupMetrics
{
    private readonly Histogram _duration;
    private readonly Counter _bytes;
    private readonly Gauge _lastSuccess;
    private readonly Gauge _interval;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _schedules = new(StringComparer.Ordinal);

    public BackupMetrics(IMetricFactory? factory = null)
    {
        factory ??= Metrics.WithCustomRegistry(Metrics.DefaultRegistry);
        _duration = factory.CreateHistogram("grafanapanel_backup_duration_seconds", "Duration of completed backup sets.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 14) });
        _bytes = factory.CreateCounter("grafanapanel_backup_bytes_total", "Compressed bytes written by completed backup sets.");
        _lastSuccess = factory.CreateGauge("grafanapanel_backup_last_success_timestamp_seconds",
            "Unix time of the schedule's last successful backup (its creation time until the first one).", ["schedule"]);
        _interval = factory.CreateGauge("grafanapanel_backup_schedule_interval_seconds",
            "Seconds between two runs of the schedule.", ["schedule"]);
    }

    public void BackupCompleted(TimeSpan duration, long compressedBytes)
    {
        // Inside the backup job's span, the observation carries its trace and span ids as an exemplar (OpenMetrics
        // scrapes only), so a point on the duration chart opens the trace of that backup in Tempo.
        _duration.Observe(duration.TotalSeconds, Exemplar.FromTraceContext());
        _bytes.Inc(compressedBytes);
    }

    /// <summary>Sets the figures of one active schedule.</summary>
    public void SetSchedule(string name, DateTimeOffset lastSuccessOrCreated, TimeSpan interval)
    {
        lock (_gate)
        {
            _schedules.Add(name);
            _lastSuccess.WithLabels(name).Set(lastSuccessOrCreated.ToUnixTimeMilliseconds() / 1000.0);
            _interval.WithLabels(name).Set(interval.TotalSeconds);
        }
    }

    /// <summary>A deleted or paused schedule is no longer exported (a paused one must not alert).</summary>
    public void RemoveSchedule(string name)
    {
        lock (_gate)
        {
            if (_schedules.Remove(name))
            {
                _lastSuccess.RemoveLabelled(name);
                _interval.RemoveLabelled(name);
            }
        }
    }
}
