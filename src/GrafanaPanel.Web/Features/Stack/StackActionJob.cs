using System.Collections.Concurrent;
using GrafanaPanel.Web.Docker;
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
public sealed class StackActionJob(StackControl control, StackOperations operations, ILogger<StackActionJob> logger)
{
    // No automatic retry: a failure is recorded and the operation ends failed; repeating a stop or restart unasked
    // would surprise the class. The user decides.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(ServiceAction action, string requestedBy, PerformContext? context, CancellationToken ct)
    {
        // Hangfire fills in the context; the job's id names the operation.
        var operationId = context?.BackgroundJob.Id ?? throw new InvalidOperationException("A whole-stack job runs under Hangfire only.");
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
public sealed class StackOperations(JobStorage storage)
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
        var processing = monitoring.ProcessingJobs(0, int.MaxValue).Select(j => (j.Value.Job, State: "running"));
        // A queue's list keeps a job whose state has moved on (deleted); only one still enqueued is waiting.
        var queued = monitoring.Queues().SelectMany(q => monitoring.EnqueuedJobs(q.Name, 0, int.MaxValue))
            .Where(j => j.Value.State == EnqueuedState.StateName).Select(j => (j.Value.Job, State: "queued to run"));
        foreach (var (job, state) in processing.Concat(queued))
        {
            if (job?.Type == typeof(StackActionJob) && job.Args is [ServiceAction action, string requestedBy, ..])
            {
                return (Describe(action, requestedBy), state);
            }
        }

        return null;
    }

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
