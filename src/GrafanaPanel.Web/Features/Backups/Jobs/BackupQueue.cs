using Hangfire;

namespace GrafanaPanel.Web.Features.Backups.Jobs;

/// <summary>Queues the backup job for a set already in the catalog as running (a backup, a baseline's capture).</summary>
public interface IBackupQueue
{
    /// <summary>Returns the Hangfire job id.</summary>
    string Enqueue(Guid setId);
}

public sealed class BackupQueue(IBackgroundJobClient jobs) : IBackupQueue
{
    public string Enqueue(Guid setId) => jobs.Enqueue<BackupJob>(job => job.RunAsync(setId, CancellationToken.None));
}
