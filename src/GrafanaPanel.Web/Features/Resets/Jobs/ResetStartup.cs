using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Resets.Jobs;

/// <summary>
/// Once the database is ready: marks resets that a stopped portal left running (or queued) as failed, and registers
/// every reset schedule with Hangfire. The containers such a reset had stopped are started again by the backup
/// engine's start-up recovery, from the journal the reset wrote before stopping anything.
/// </summary>
public sealed class ResetStartup(IServiceProvider services, DatabaseStatus database, ILogger<ResetStartup> logger) : BackgroundService
{
    public const string Interrupted =
        "The portal stopped during this reset. The services it had stopped were started again when the portal came back; " +
        "volumes may be partly reset. Run the reset again to complete it.";

    public const string NeverStarted = "The portal stopped before this reset began; nothing was changed. Ask for it again.";

    // Runs claimed before this process started belong to a process that is gone.
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Done => _done.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.WhenReadyAsync(stoppingToken);
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PanelDbContext>();
            var now = DateTimeOffset.UtcNow;
            // Conditional updates: a run this process claims meanwhile has StartedAt after _startedAt and is left alone.
            var interrupted = await db.ResetRuns.Where(r => r.Active && r.Status == ResetStatus.Running && r.StartedAt < _startedAt)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, ResetStatus.Failed).SetProperty(r => r.Active, false)
                    .SetProperty(r => r.Error, Interrupted).SetProperty(r => r.FinishedAt, now), stoppingToken);
            var queued = await db.ResetRuns.Where(r => r.Active && r.Status == ResetStatus.Queued && r.RequestedAt < _startedAt)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, ResetStatus.Failed).SetProperty(r => r.Active, false)
                    .SetProperty(r => r.Error, NeverStarted).SetProperty(r => r.FinishedAt, now), stoppingToken);
            if (interrupted + queued > 0)
            {
                logger.LogWarning("{Interrupted} reset(s) cut off and {Queued} queued by a stopped portal were marked failed", interrupted, queued);
            }

            var scheduler = scope.ServiceProvider.GetRequiredService<ResetScheduler>();
            ScheduleSteps.SyncAll(await db.ResetSchedules.AsNoTracking().ToListAsync(stoppingToken), scheduler.Sync, "Reset schedule", logger);

            _done.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _done.TrySetCanceled(stoppingToken);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Reset start-up recovery failed");
            _done.TrySetException(ex);
        }
    }
}
