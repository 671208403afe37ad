using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>
/// Pausing or stopping the running users of volumes while an operation reads or replaces them, and resuming them
/// after: journaled first (<see cref="InflightJournal"/>), so start-up recovery resumes them after a crash.
/// </summary>
public sealed class ContainerInterruption(IDockerEngine docker, string backupDirectory, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>Journals, then pauses or stops the running containers (dependents first); null when nothing needs it.</summary>
    public async Task<Interruption?> InterruptAsync(
        Guid setId, JournalOperation operation, string folder, BackupMode mode, IEnumerable<ContainerRecord> users, CancellationToken ct)
    {
        if (mode == BackupMode.Hot)
        {
            return null;
        }

        var running = new List<string>();
        foreach (var user in users)
        {
            var live = await docker.InspectContainerAsync(user.Id, ct);
            if (live?.State == ContainerState.Running)
            {
                running.Add(live.Id);
            }
        }

        if (running.Count == 0)
        {
            return null;
        }

        var interruption = new Interruption(setId, operation, mode);
        var journal = new InflightJournal(setId, operation, folder,
            mode == BackupMode.Pause ? running : [], mode == BackupMode.Stop ? running : [], time.GetUtcNow());
        await journal.WriteAsync(backupDirectory, ct);
        interruption.Journaled = true;
        try
        {
            // Dependents first: a service is never left running without what it depends on.
            foreach (var id in Enumerable.Reverse(running))
            {
                if (mode == BackupMode.Pause)
                {
                    await docker.PauseContainerAsync(id, ct);
                }
                else
                {
                    await docker.StopContainerAsync(id, StopGrace, ct);
                }

                interruption.Done.Add(id);
            }
        }
        catch
        {
            await ResumeAsync(interruption);
            throw;
        }

        return interruption;
    }

    /// <summary>Unpauses or starts what was interrupted, never cancelled; deletes the journal only when all run again.</summary>
    public async Task ResumeAsync(Interruption? interruption)
    {
        if (interruption is null || interruption.Resumed)
        {
            return;
        }

        interruption.Resumed = true;
        var failed = false;
        // The reverse of the interruption: dependencies first, as compose starts them.
        foreach (var id in Enumerable.Reverse(interruption.Done))
        {
            try
            {
                if (interruption.Mode == BackupMode.Pause)
                {
                    await docker.UnpauseContainerAsync(id, CancellationToken.None);
                }
                else
                {
                    await docker.StartContainerAsync(id, CancellationToken.None);
                }
            }
            catch (Exception e) when (e is DockerUnavailableException or DockerOperationException or DockerNotFoundException)
            {
                failed = true;
                BackupLog.ResumeFailed(logger, e, id, Vocabulary.Name(interruption.Operation), interruption.SetId);
            }
        }

        if (interruption.Journaled)
        {
            // A journal kept (something could not be resumed) goes to the recovery service, which resumes its
            // containers once the engine answers again.
            InflightJournal.Release(backupDirectory, interruption.SetId, delete: !failed);
        }
    }

    /// <summary>What one operation paused or stopped.</summary>
    public sealed class Interruption(Guid setId, JournalOperation operation, BackupMode mode)
    {
        public Guid SetId { get; } = setId;

        public JournalOperation Operation { get; } = operation;

        public BackupMode Mode { get; } = mode;

        public List<string> Done { get; } = [];

        public bool Journaled { get; set; }

        public bool Resumed { get; set; }
    }
}
