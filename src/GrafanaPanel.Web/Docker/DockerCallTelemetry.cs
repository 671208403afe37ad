using System.Diagnostics;
using GrafanaPanel.Web.Telemetry;

namespace GrafanaPanel.Web.Docker;

/// <summary>
/// One Docker engine call as a client span (<c>docker {operation}</c>, with the subject it concerns) and a measurement
/// of <see cref="PanelTelemetry.DockerCallDuration"/>. A call that is neither marked succeeded nor failed when disposed
/// (cancelled by its caller) is recorded as <c>cancelled</c>.
/// </summary>
internal sealed class DockerCallTelemetry : IDisposable
{
    private readonly string _operation;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private string _outcome = "cancelled";

    private DockerCallTelemetry(string operation, Activity? activity)
    {
        _operation = operation;
        _activity = activity;
    }

    public static DockerCallTelemetry Start(string operation, string subject)
    {
        var activity = PanelTelemetry.Source.StartActivity($"docker {operation}", ActivityKind.Client);
        activity?.SetTag("docker.operation", operation);
        activity?.SetTag("docker.subject", subject);
        return new DockerCallTelemetry(operation, activity);
    }

    public void Succeeded()
    {
        _outcome = PanelTelemetry.Succeeded;
        _activity.Succeed();
    }

    public void Failed(Exception ex)
    {
        _outcome = PanelTelemetry.Failed;
        _activity.Fail(ex);
    }

    public void Dispose()
    {
        PanelTelemetry.DockerCallDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds,
            new KeyValuePair<string, object?>("operation", _operation), new KeyValuePair<string, object?>("outcome", _outcome));
        _activity?.Dispose();
    }
}
