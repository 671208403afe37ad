using System.Diagnostics;

namespace GrafanaPanel.Web.Telemetry;

/// <summary>
/// One step of a backup, restore or reset as a span: <c>volume</c> when it concerns one, <c>bytes</c> when it moved
/// some, and <c>outcome</c>. A step left without <see cref="Done"/> (an exception went through it) ends as a failure;
/// the exception itself is on the job's span.
/// </summary>
public sealed class PanelStep : IDisposable
{
    private readonly Activity? _activity;
    private bool _done;

    private PanelStep(Activity? activity) => _activity = activity;

    public static PanelStep Start(string name, string? volume = null)
    {
        var activity = PanelTelemetry.Source.StartActivity(name);
        if (volume is not null)
        {
            activity?.SetTag("volume", volume);
        }

        return new PanelStep(activity);
    }

    /// <summary>Adds an attribute to the step's span.</summary>
    public PanelStep Tag(string key, object? value)
    {
        _activity?.SetTag(key, value);
        return this;
    }

    /// <summary>The step succeeded, having moved <paramref name="bytes"/> when given.</summary>
    public void Done(long? bytes = null)
    {
        _done = true;
        if (bytes is { } moved)
        {
            _activity?.SetTag("bytes", moved);
        }

        _activity.Succeed();
    }

    /// <summary>The step failed with <paramref name="ex"/>.</summary>
    public void Failed(Exception ex)
    {
        _done = true;
        _activity.Fail(ex);
    }

    public void Dispose()
    {
        if (!_done && _activity is not null)
        {
            _activity.SetStatus(ActivityStatusCode.Error, "the step did not finish");
            _activity.SetTag("outcome", PanelTelemetry.Failed);
        }

        _activity?.Dispose();
    }
}
