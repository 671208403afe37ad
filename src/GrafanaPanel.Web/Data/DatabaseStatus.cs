namespace GrafanaPanel.Web.Data;

/// <summary>Whether the panel database is reachable and migrated; read by /readyz and by services that must wait for it.</summary>
public sealed class DatabaseStatus
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompleted;

    /// <summary>What is wrong, in words that name the host, port and database; null once ready.</summary>
    public string? Problem { get; private set; } = "start-up has not reached it yet.";

    public Task WhenReadyAsync(CancellationToken ct) => _ready.Task.WaitAsync(ct);

    public void ReportProblem(string problem) => Problem = problem;

    public void ReportReady()
    {
        Problem = null;
        _ready.TrySetResult();
    }
}
