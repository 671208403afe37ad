namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>Applies one schedule's retention; deleting what is already gone is a no-op, so it may run twice.</summary>
public sealed class RetentionJob(BackupRetention retention)
{
    public Task RunAsync(Guid scheduleId, CancellationToken ct) => retention.ApplyAsync(scheduleId, ct);
}
