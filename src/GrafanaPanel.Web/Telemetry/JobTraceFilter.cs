using System.Diagnostics;
using Hangfire.Client;
using Hangfire.Server;

namespace GrafanaPanel.Web.Telemetry;

/// <summary>
/// Carries the trace of whoever queued a Hangfire job into the job: on create, the current activity's W3C
/// <c>traceparent</c> (and <c>tracestate</c>) are stored as job parameters; on perform, the job's span starts with that
/// parent, so "click Restore → restore job → Docker calls" is one trace. A job queued outside any trace (a recurring
/// schedule) starts a trace of its own, and the jobs it queues continue it. Every job's duration and failure are
/// measured here too (<see cref="PanelTelemetry.JobDuration"/>, <see cref="PanelTelemetry.JobFailures"/>).
/// </summary>
public sealed class JobTraceFilter : IClientFilter, IServerFilter
{
    public const string TraceParentParameter = "traceparent";
    public const string TraceStateParameter = "tracestate";
    private const string RunItem = "GrafanaPanel.JobRun";
    private const string QueueingItem = "GrafanaPanel.Queueing";

    public void OnCreating(CreatingContext context)
    {
        // A short producer span: the job's parent, under the request's span when there is one, else a trace's root
        // (a click in a Blazor circuit, a schedule).
        var name = JobName(context.Job.Type);
        var queueing = PanelTelemetry.Source.StartActivity($"queue {name}", ActivityKind.Producer);
        queueing?.SetTag("messaging.system", "hangfire");
        queueing?.SetTag("job.name", name);
        if (queueing is not null)
        {
            context.Items[QueueingItem] = queueing;
        }

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
        if (context.Items.TryGetValue(QueueingItem, out var item) && item is Activity queueing)
        {
            queueing.SetTag("job.id", context.BackgroundJob?.Id);
            if (context.Exception is { } ex && !context.ExceptionHandled)
            {
                queueing.Fail(ex);
            }
            else
            {
                queueing.Succeed();
            }

            queueing.Dispose();
        }
    }

    public void OnPerforming(PerformingContext context)
    {
        var job = context.BackgroundJob.Job;
        var name = JobName(job.Type);
        var traceParent = context.GetJobParameter<string>(TraceParentParameter);
        var traceState = context.GetJobParameter<string>(TraceStateParameter);
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        // Hangfire calls the job on this flow right after the filters: what is set here is current there.
        var activity = PanelTelemetry.Source.StartActivity($"job {name}", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "hangfire");
        activity?.SetTag("job.id", context.BackgroundJob.Id);
        activity?.SetTag("job.name", name);
        activity?.SetTag("job.type", job.Type.Name);
        activity?.SetTag("job.method", job.Method.Name);
        // The failure series exists (at 0) once a job has run, so the first failure shows as an increase.
        PanelTelemetry.JobFailures.Add(0, new KeyValuePair<string, object?>("job", name));
        var run = new JobRun(name, activity);
        JobRun.Current = run;
        context.Items[RunItem] = run;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (!context.Items.TryGetValue(RunItem, out var item) || item is not JobRun run)
        {
            return;
        }

        var exception = context.Exception is not null && !context.ExceptionHandled ? context.Exception.InnerException ?? context.Exception : null;
        var failed = exception is not null || run.Failure is not null;
        PanelTelemetry.JobEnded(run.Name, Stopwatch.GetElapsedTime(run.Started), !failed);
        if (exception is not null)
        {
            run.Activity.Fail(exception);
        }
        else if (!failed)
        {
            run.Activity.Succeed();
        }

        run.Activity?.Dispose();
        JobRun.Current = null;
    }

    /// <summary>The job's name on spans and metrics: its class without "Job", in kebab case (ScheduledBackupJob: scheduled-backup).</summary>
    public static string JobName(Type jobType)
    {
        var name = jobType.Name.EndsWith("Job", StringComparison.Ordinal) ? jobType.Name[..^3] : jobType.Name;
        var kebab = new System.Text.StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && kebab.Length > 0)
            {
                kebab.Append('-');
            }

            kebab.Append(char.ToLowerInvariant(c));
        }

        return kebab.ToString();
    }
}
