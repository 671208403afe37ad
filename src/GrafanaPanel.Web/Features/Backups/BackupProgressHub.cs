using System.Collections.Concurrent;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>A running backup, restore or verification as the progress bar shows it.</summary>
/// <param name="BytesPerSecond">Average throughput since the job started reporting.</param>
public sealed record RunningBackupJob(
    Guid SetId, string Kind, string Step, string? Volume, long Bytes, long? TotalBytes, DateTimeOffset StartedAt, double BytesPerSecond)
{
    /// <summary>0..100 when the total is known, else null (an indeterminate bar).</summary>
    public double? Percent => TotalBytes is { } total && total > 0 ? Math.Min(100, 100.0 * Bytes / total) : null;
}

/// <summary>What a page shows of the backup jobs running now, and when that changes.</summary>
public interface IBackupActivity
{
    /// <summary>Raised after every change, on the publishing thread; components re-render via InvokeAsync.</summary>
    event Action? Changed;

    IReadOnlyList<RunningBackupJob> Running { get; }
}

/// <summary>
/// In-memory progress of the jobs running in this process, per set id: jobs publish, circuits subscribe to
/// <see cref="Changed"/> and render <see cref="Running"/>. Throughput is computed here, once, for every viewer.
/// </summary>
public sealed class BackupProgressHub(TimeProvider time) : IBackupActivity
{
    private readonly ConcurrentDictionary<Guid, RunningBackupJob> _running = new();

    /// <summary>Raised after every change, on the publishing thread; components re-render via InvokeAsync.</summary>
    public event Action? Changed;

    public IReadOnlyList<RunningBackupJob> Running => [.. _running.Values.OrderBy(r => r.StartedAt)];

    public RunningBackupJob? Find(Guid setId) => _running.GetValueOrDefault(setId);

    /// <summary>An <see cref="IProgress{T}"/> for the engine that publishes under <paramref name="setId"/>.</summary>
    public IProgress<BackupProgress> For(Guid setId, string kind)
    {
        Publish(setId, kind, new BackupProgress("starting", null, 0, null));
        return new Reporter(this, setId, kind);
    }

    public void Publish(Guid setId, string kind, BackupProgress progress)
    {
        var now = time.GetUtcNow();
        _running.AddOrUpdate(
            setId,
            _ => new RunningBackupJob(setId, kind, progress.Step, progress.Volume, progress.Bytes, progress.TotalBytes, now, 0),
            (_, old) =>
            {
                var seconds = (now - old.StartedAt).TotalSeconds;
                var rate = seconds > 0 ? progress.Bytes / seconds : 0;
                return old with { Step = progress.Step, Volume = progress.Volume, Bytes = progress.Bytes, TotalBytes = progress.TotalBytes, BytesPerSecond = rate };
            });
        Changed?.Invoke();
    }

    public void Complete(Guid setId)
    {
        if (_running.TryRemove(setId, out _))
        {
            Changed?.Invoke();
        }
    }

    private sealed class Reporter(BackupProgressHub hub, Guid setId, string kind) : IProgress<BackupProgress>
    {
        public void Report(BackupProgress value) => hub.Publish(setId, kind, value);
    }
}
