using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>
/// Once the database is ready: marks sets left Running by a killed process as Failed, and re-registers every
/// schedule's recurring job (and the weekly verification) so Hangfire matches the catalog.
/// </summary>
public sealed class BackupJobsStartup(IServiceProvider services, DatabaseStatus database, ILogger<BackupJobsStartup> logger) : BackgroundService
{
    public const string StoppedDuringBackup = "the portal stopped during the backup";

    // Sets created before this process started belong to a process that is gone.
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when start-up recovery and the schedule sync have run (for tests and readiness).</summary>
    public Task Done => _done.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.WhenReadyAsync(stoppingToken);
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PanelDbContext>();
            var failed = await db.BackupSets.Where(s => s.Status == BackupSetStatus.Running && s.CreatedAt < _startedAt)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(s => s.Status, BackupSetStatus.Failed)
                    .SetProperty(s => s.Error, StoppedDuringBackup)
                    .SetProperty(s => s.CompletedAt, DateTimeOffset.UtcNow), stoppingToken);
            if (failed > 0)
            {
                logger.LogWarning("{Count} backup set(s) were left running by a stopped process; marked failed", failed);
            }

            var scheduler = scope.ServiceProvider.GetRequiredService<BackupScheduler>();
            foreach (var schedule in await db.BackupSchedules.AsNoTracking().ToListAsync(stoppingToken))
            {
                try
                {
                    scheduler.Sync(schedule);
                }
                catch (ScheduleValidationException ex)
                {
                    logger.LogError("Schedule {Name} cannot be registered: {Problem}", schedule.Name, ex.Message);
                }
            }

            scheduler.SyncVerifyAll();
            _done.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _done.TrySetCanceled(stoppingToken);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Backup start-up recovery failed");
            _done.TrySetException(ex);
        }
    }
}
