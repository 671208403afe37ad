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

    /// <summary>Words for a page while start-up has not reached the database; null once it has.</summary>
    public string? Outage => IsReady ? null : $"GrafanaPanel keeps its users and data in PostgreSQL and cannot use it yet: {Problem}";

    /// <summary>Words for a page that <paramref name="failure"/> broke, when it is a database failure; null otherwise.</summary>
    public static string? DescribeFailure(Exception? failure, string? connectionString)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (DatabaseInitializer.IsTransient(e))
            {
                return $"GrafanaPanel keeps its users and data in PostgreSQL at {DatabaseInitializer.DescribeTarget(connectionString)} " +
                    $"and lost its connection ({e.GetBaseException().Message}).";
            }
        }

        return null;
    }
}
