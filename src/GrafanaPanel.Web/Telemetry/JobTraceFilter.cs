using System.Diagnostics;
using Hangfire.Client;
using Hangfire.Server;

namespace GrafanaPanel.Web.Telemetry;

/// <summary>
/// Carries the trace of whoever queued a Hangfire job into the job: on create, the current activity's W3C
/// <c>traceparent</c> (and <c>tracestate</c>) are stored as job parameters; on perform, the job's span starts with that
/// parent, so "click Restore → restore job → Docker calls" is one trace. A job queued outside any trace (a recurring
/// schedule) starts a trace of its own, and the jobs it queues continue it.
/// </summary>
public sealed class JobTraceFilter : IClientFilter, IServerFilter
{
    public const string TraceParentParameter = "traceparent";
    public const string TraceStateParameter = "tracestate";
    private const string ActivityItem = "GrafanaPanel.Activity";

    public void OnCreating(CreatingContext context)
    {
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            context.SetJobParameter(TraceParentParameter, current.Id);
            if (!string.IsNullOrEmpty(current.TraceStateString))
            {
                context.SetJobParameter(TraceStateParameter, current.TraceStateString);
            }
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        var job = context.BackgroundJob.Job;
        var traceParent = context.GetJobParameter<string>(TraceParentParameter);
        var traceState = context.GetJobParameter<string>(TraceStateParameter);
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        // Hangfire calls the job on this thread right after the filters: the activity set here is Activity.Current there.
        var activity = PanelTelemetry.Source.StartActivity($"job {job.Type.Name}", ActivityKind.Consumer, parent);
        if (activity is null)
        {
            return;
        }

        activity.SetTag("messaging.system", "hangfire");
        activity.SetTag("job.id", context.BackgroundJob.Id);
        activity.SetTag("job.type", job.Type.Name);
        activity.SetTag("job.method", job.Method.Name);
        context.Items[ActivityItem] = activity;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(ActivityItem, out var item) && item is Activity activity)
        {
            if (context.Exception is { } ex && !context.ExceptionHandled)
            {
                activity.Fail(ex.InnerException ?? ex);
            }
            else
            {
                activity.Succeed();
            }

            activity.Dispose();
        }
    }
}
