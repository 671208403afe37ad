using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using GrafanaPanel.Web.Data;
using Hangfire;

namespace GrafanaPanel.Web.Telemetry;

/// <summary>
/// What waits in Hangfire, read from the job storage's monitoring API for two observable gauges on the portal's meter:
/// <c>jobs_queued</c> (jobs waiting in each queue, by <c>queue</c>) and <c>jobs_in_state</c> (by <c>state</c>:
/// enqueued, scheduled, processing, failed). The meter adapter observes them on every /metrics scrape; a reading is
/// kept for <see cref="MaxAge"/> so scrapes do not hammer the database, and a scrape waits at most
/// <see cref="ScrapeWait"/> for a new one. While the storage cannot be read (the database is down or not ready yet),
/// every series of this portal says NaN instead of a stale number, and the scrape still answers.
/// </summary>
public sealed partial class JobQueueMetrics(JobStorage storage, DatabaseStatus database, TimeProvider time, ILogger<JobQueueMetrics> logger)
    : IHostedService
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan ScrapeWait = TimeSpan.FromSeconds(1);

    /// <summary>The states <c>jobs_in_state</c> reports, as Hangfire's statistics count them.</summary>
    public static readonly IReadOnlyList<string> States = ["enqueued", "scheduled", "processing", "failed"];

    // The meter is the process's; each running portal (one in production, several in a test run) reports its own storage.
    private static readonly ConcurrentDictionary<JobQueueMetrics, byte> Running = new();

    // Created with the class, which the first portal's start (Running) brings about.
    internal static readonly ObservableGauge<double> JobsQueued = PanelTelemetry.Meter.CreateObservableGauge(
        "jobs_queued", ObserveQueued, null, "Jobs waiting in each Hangfire queue, by queue (NaN while the job storage cannot be read).");

    internal static readonly ObservableGauge<double> JobsInState = PanelTelemetry.Meter.CreateObservableGauge(
        "jobs_in_state", ObserveStates, null, "Hangfire jobs by state: enqueued, scheduled, processing, failed (NaN while the job storage cannot be read).");

    private readonly Lock _gate = new();
    // A queue once seen keeps being reported (at 0 when emptied) instead of staying at its last value.
    private readonly SortedSet<string> _queues = new(StringComparer.Ordinal) { "default" };
    private Reading? _reading;
    private long _readAt;
    private Task? _refresh;
    private bool _failing;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Running.TryAdd(this, 0);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Running.TryRemove(this, out _);
        return Task.CompletedTask;
    }

    internal static IEnumerable<Measurement<double>> ObserveQueued() => Running.Keys.SelectMany(metrics => metrics.Queued()).ToList();

    internal static IEnumerable<Measurement<double>> ObserveStates() => Running.Keys.SelectMany(metrics => metrics.InState()).ToList();

    private IEnumerable<Measurement<double>> Queued()
    {
        var reading = Current();
        lock (_gate)
        {
            if (reading.Queued is { } queued)
            {
                _queues.UnionWith(queued.Keys);
            }

            return _queues.Select(queue => new Measurement<double>(
                reading.Queued is { } known ? known.GetValueOrDefault(queue) : double.NaN, new KeyValuePair<string, object?>("queue", queue))).ToList();
        }
    }

    private IEnumerable<Measurement<double>> InState()
    {
        var reading = Current();
        return States.Select(state => new Measurement<double>(
            reading.InState is { } known ? known.GetValueOrDefault(state) : double.NaN, new KeyValuePair<string, object?>("state", state))).ToList();
    }

    /// <summary>The reading, refreshed when older than <see cref="MaxAge"/> (one refresh at a time, waited for briefly).</summary>
    private Reading Current()
    {
        Task refresh;
        lock (_gate)
        {
            if (_reading is { } fresh && time.GetElapsedTime(_readAt) < MaxAge)
            {
                return fresh;
            }

            refresh = _refresh ??= Task.Run(Refresh);
        }

        // Refresh never throws; a slow one (a database that does not answer) leaves the previous reading for this scrape.
        refresh.Wait(ScrapeWait);
        lock (_gate)
        {
            return _reading ?? Reading.Unreadable;
        }
    }

    private void Refresh()
    {
        var reading = Read();
        lock (_gate)
        {
            _reading = reading;
            _readAt = time.GetTimestamp();
            _refresh = null;
        }
    }

    private Reading Read()
    {
        if (!database.IsReady)
        {
            // Start-up has not migrated the database (Hangfire's schema included) yet: nothing to read, nothing to report.
            return Reading.Unreadable;
        }

        try
        {
            var monitoring = storage.GetMonitoringApi();
            var statistics = monitoring.GetStatistics();
            var queued = monitoring.Queues().ToDictionary(queue => queue.Name, queue => (double)queue.Length, StringComparer.Ordinal);
            var inState = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["enqueued"] = statistics.Enqueued,
                ["scheduled"] = statistics.Scheduled,
                ["processing"] = statistics.Processing,
                ["failed"] = statistics.Failed,
            };
            if (_failing)
            {
                _failing = false;
                LogReadable(logger);
            }

            return new Reading(queued, inState);
        }
        catch (Exception e)
        {
            if (!_failing)
            {
                _failing = true;
                LogUnreadable(logger, e.GetBaseException().Message);
            }

            return Reading.Unreadable;
        }
    }

    /// <summary>Jobs waiting per queue and jobs per state; null when the storage could not be read.</summary>
    private sealed record Reading(Dictionary<string, double>? Queued, Dictionary<string, double>? InState)
    {
        public static readonly Reading Unreadable = new(null, null);
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning,
        Message = "The job storage cannot be read for the queue metrics ({Reason}); they say NaN until it can")]
    private static partial void LogUnreadable(ILogger logger, string reason);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "The job storage can be read again for the queue metrics")]
    private static partial void LogReadable(ILogger logger);
}
