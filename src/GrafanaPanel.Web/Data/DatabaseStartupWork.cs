namespace GrafanaPanel.Web.Data;

/// <summary>
/// Work a feature does once at start-up, as soon as the database is ready (marking runs a killed process left behind,
/// registering schedules), on a scope of its own; <see cref="Done"/> tells tests and readiness when it has run.
/// </summary>
public abstract class DatabaseStartupWork(IServiceProvider services, DatabaseStatus database, ILogger logger) : BackgroundService
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Work created before this process started belongs to a process that is gone.</summary>
    protected DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Completes when the work has run.</summary>
    public Task Done => _done.Task;

    /// <summary>What the work is, for the log line when it fails ("Backup start-up recovery").</summary>
    protected abstract string What { get; }

    protected abstract Task RunAsync(IServiceProvider scoped, PanelDbContext db, CancellationToken ct);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.WhenReadyAsync(stoppingToken);
            await using var scope = services.CreateAsyncScope();
            await RunAsync(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<PanelDbContext>(), stoppingToken);
            _done.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _done.TrySetCanceled(stoppingToken);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "{What} failed", What);
            _done.TrySetException(ex);
        }
    }
}
