using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Resets.Jobs;

/// <summary>
/// Once the database is ready: marks resets that a stopped portal left running (or queued) as failed, and registers
/// every reset schedule with Hangfire. The volume replacement's start-up recovery rolls such a reset back to its safety
/// backup and starts the containers it had stopped, from the journal written before anything was stopped.
/// </summary>
public sealed class ResetStartup(IServiceProvider services, DatabaseStatus database, ILogger<ResetStartup> logger)
    : DatabaseStartupWork(services, database, logger)
{
    public const string Interrupted =
        "The portal stopped during this reset. When it came back, it put back the reset's safety backup (if one was taken before " +
        "volumes were replaced) and started the services the reset had stopped; without a safety backup, volumes may be partly reset. " +
        "Run the reset again to complete it.";

    public const string NeverStarted = "The portal stopped before this reset began; nothing was changed. Ask for it again.";

    protected override string What => "Reset start-up recovery";

    protected override async Task RunAsync(IServiceProvider scoped, PanelDbContext db, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        // Conditional updates: a run this process claims meanwhile has StartedAt after StartedAt and is left alone.
        var interrupted = await db.ResetRuns.Where(r => r.Active && r.Status == ResetStatus.Running && r.StartedAt < StartedAt)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, ResetStatus.Failed).SetProperty(r => r.Active, false)
                .SetProperty(r => r.Error, Interrupted).SetProperty(r => r.FinishedAt, now), ct);
        var queued = await db.ResetRuns.Where(r => r.Active && r.Status == ResetStatus.Queued && r.RequestedAt < StartedAt)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, ResetStatus.Failed).SetProperty(r => r.Active, false)
                .SetProperty(r => r.Error, NeverStarted).SetProperty(r => r.FinishedAt, now), ct);
        if (interrupted + queued > 0)
        {
            logger.LogWarning("{Interrupted} reset(s) cut off and {Queued} queued by a stopped portal were marked failed", interrupted, queued);
        }

        var scheduler = scoped.GetRequiredService<ResetScheduler>();
        ScheduleSteps.SyncAll(await db.ResetSchedules.AsNoTracking().ToListAsync(ct), scheduler.Sync, "Reset schedule", logger);
    }
}
