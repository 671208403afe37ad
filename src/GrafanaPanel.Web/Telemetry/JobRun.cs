using System.Diagnostics;

namespace GrafanaPanel.Web.Telemetry;

/// <summary>
/// The Hangfire job running on this flow of execution, set by <see cref="JobTraceFilter"/>: its name, its span and,
/// for a job that records its failure instead of throwing (a reset marks its run Failed), the failure.
/// </summary>
public sealed class JobRun
{
    private static readonly AsyncLocal<JobRun?> CurrentRun = new();

    internal JobRun(string name, Activity? activity)
    {
        Name = name;
        Activity = activity;
    }

    /// <summary>The job running here, or null outside a job.</summary>
    public static JobRun? Current
    {
        get => CurrentRun.Value;
        internal set => CurrentRun.Value = value;
    }

    public string Name { get; }

    public Activity? Activity { get; }

    public long Started { get; } = Stopwatch.GetTimestamp();

    public Exception? Failure { get; private set; }

    /// <summary>The current job failed although it returns normally: its span and the job metrics say so.</summary>
    public static void Failed(Exception ex)
    {
        if (Current is { } run)
        {
            run.Failure = ex;
            run.Activity.Fail(ex);
        }
    }

    /// <summary>Records bytes moved by the current job (<see cref="PanelTelemetry.JobBytes"/>, by job name).</summary>
    public static void MovedBytes(long bytes) =>
        PanelTelemetry.JobBytes.Record(bytes, new KeyValuePair<string, object?>("job", Current?.Name ?? "none"));
}
