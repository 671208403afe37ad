using System.Collections.Concurrent;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Telemetry;
using Hangfire;
using Hangfire.Server;
using Hangfire.States;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>
/// A whole-stack start, stop or restart asked for through the API (<see cref="StackControl.RequestStackAsync"/>), run
/// as the user who asked. The job's id is the operation's: its audit entry (<c>stack.*</c>, target
/// "&lt;project&gt; operation &lt;id&gt;") ends the operation; while it runs, the service it is at is in
/// <see cref="StackOperations"/>.
/// </summary>
public sealed class StackActionJob(
    StackControl control, StackOperations operations, IAuditLog audit, TimeProvider time, ILogger<StackActionJob> logger)
{
    /// <summary>The job parameter set when a run begins: a run that finds it was cut off before (the portal died).</summary>
    public const string StartedParameter = "stack.started";

    // No automatic retry: a failure is recorded and the operation ends failed; repeating a stop or restart unasked
    // would surprise the class. The user decides.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(ServiceAction action, string requestedBy, PerformContext? context, CancellationToken ct)
    {
        // Hangfire fills in the context; the job's id names the operation.
        var operationId = context?.BackgroundJob.Id ?? throw new InvalidOperationException("A whole-stack job runs under Hangfire only.");
        if (context.GetJobParameter<DateTimeOffset?>(StartedParameter) is { } started)
        {
            // Hangfire hands a job whose server died back out, up to half an hour later: the class may be in the
            // middle of an exercise by then, so the action is not run again.
            var verb = action.ToString().ToLowerInvariant();
            var interrupted = $"The portal stopped while this {verb} of the whole stack ran (it began {started:yyyy-MM-dd HH:mm:ss} UTC), " +
                "so it was not run again. Check the overview and ask again if the stack is not as you want it.";
            logger.LogWarning("Whole-stack {Action} (operation {OperationId}) was cut off by a portal restart and is not run again", action, operationId);
            await audit.RecordAsync(new AuditRecord(requestedBy, AuditActions.Stack(verb), control.OperationTarget(operationId), false, interrupted),
                CancellationToken.None);
            JobRun.Failed(new InvalidOperationException(interrupted));
            return;
        }

        context.SetJobParameter(StartedParameter, time.GetUtcNow());
        try
        {
            var done = await control.RunStackAsAsync(requestedBy, action, control.OperationTarget(operationId), operations.For(operationId), ct);
            logger.LogInformation("{Done} (operation {OperationId}, asked for by {User})", done, operationId, requestedBy);
        }
        catch (Exception ex) when (ex is DockerUnavailableException or DockerOperationException or DockerNotFoundException or StackBusyException)
        {
            // Recorded in the audit log by the control, which ends the operation as failed.
            logger.LogWarning("Whole-stack {Action} (operation {OperationId}) failed: {Error}", action, operationId, ex.Message);
            JobRun.Failed(ex);
        }
        finally
        {
            operations.Complete(operationId);
        }
    }
}

/// <summary>
/// The whole-stack operations: the step each running one is at ("Stopping grafana…"), for its operation's progress,
/// and whether one is queued or running, from Hangfire's own records.
/// </summary>
public sealed class StackOperations(JobStorage storage, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, string> _steps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _queued = new(StringComparer.Ordinal);

    /// <summary>Held while a request looks for a pending operation and queues its own.</summary>
    public SemaphoreSlim Requests { get; } = new(1, 1);

    /// <summary>
    /// The whole-stack job queued or running now, in words ("a restart of the whole stack asked for by …") with its state
    /// ("running", "queued to run"), or null. Hangfire's record of each job says whether it has ended; the jobs this
    /// process queued are looked up by id, since a job the job server has fetched but not begun is in no list.
    /// </summary>
    public (string What, string State)? Pending()
    {
        using var connection = storage.GetConnection();
        foreach (var (id, what) in _queued)
        {
            var state = connection.GetJobData(id)?.State;
            if (state is null || state == SucceededState.StateName || state == FailedState.StateName || state == DeletedState.StateName)
            {
                _queued.TryRemove(id, out _);
                continue;
            }

            return (what, state == ProcessingState.StateName ? "running" : "queued to run");
        }

        // Jobs an earlier run of the portal queued.
        var monitoring = storage.GetMonitoringApi();
        var processing = monitoring.ProcessingJobs(0, int.MaxValue).Select(j => (j.Value.Job, State: "running", ServerId: (string?)j.Value.ServerId));
        // A queue's list keeps a job whose state has moved on (deleted); only one still enqueued is waiting.
        var queued = monitoring.Queues().SelectMany(q => monitoring.EnqueuedJobs(q.Name, 0, int.MaxValue))
            .Where(j => j.Value.State == EnqueuedState.StateName).Select(j => (j.Value.Job, State: "queued to run", ServerId: (string?)null));
        foreach (var (job, state, serverId) in processing.Concat(queued))
        {
            // A job "running" on a server that died is not: it will be handed back, and then not run again (see the job).
            if (job?.Type == typeof(StackActionJob) && job.Args is [ServiceAction action, string requestedBy, ..]
                && (state != "running" || IsAlive(serverId)))
            {
                return (Describe(action, requestedBy), state);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether the job server <paramref name="serverId"/> still beats (the portal's writes a heartbeat every 10 s); a job
    /// "processing" on a dead one was cut off when its portal stopped.
    /// </summary>
    public bool IsAlive(string? serverId) =>
        serverId is not null && storage.GetMonitoringApi().Servers()
            .Any(s => s.Name == serverId && s.Heartbeat is { } beat && time.GetUtcNow().UtcDateTime - beat < DeadAfter);

    /// <summary>Three missed heartbeats.</summary>
    private static readonly TimeSpan DeadAfter = Data.JobServerHost.HeartbeatInterval * 4;

    /// <summary>Remembers a job just queued (under <see cref="Requests"/>), until Hangfire says it has ended.</summary>
    public void Queued(string operationId, ServiceAction action, string requestedBy) => _queued[operationId] = Describe(action, requestedBy);

    private static string Describe(ServiceAction action, string requestedBy) =>
        $"a {action.ToString().ToLowerInvariant()} of the whole stack asked for by {requestedBy}";

    public string? StepOf(string operationId) => _steps.TryGetValue(operationId, out var step) ? step : null;

    public IProgress<string> For(string operationId)
    {
        _steps[operationId] = "Taking the stack lock…";
        return new Step(this, operationId);
    }

    public void Complete(string operationId) => _steps.TryRemove(operationId, out _);

    private sealed class Step(StackOperations owner, string operationId) : IProgress<string>
    {
        public void Report(string value) => owner._steps[operationId] = value;
    }
}
