using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>What start-up recovery found and did.</summary>
/// <param name="DeletedPartials">Temporary archive files a killed backup left.</param>
/// <param name="RemovedHelpers">Leftover helper containers.</param>
/// <param name="InterruptedSets">Sets whose backup or restore was cut off: a backup set to mark failed in the catalog,
/// or the source set of a restore that may have left its volumes incomplete.</param>
/// <param name="ResumedContainers">Containers that were unpaused or started again.</param>
/// <param name="Problems">What could not be undone (kept for the next start).</param>
public sealed record RecoveryReport(
    IReadOnlyList<string> DeletedPartials,
    IReadOnlyList<string> RemovedHelpers,
    IReadOnlyList<InflightJournal> InterruptedSets,
    IReadOnlyList<string> ResumedContainers,
    IReadOnlyList<string> Problems)
{
    public bool NothingToDo => DeletedPartials.Count == 0 && RemovedHelpers.Count == 0 && InterruptedSets.Count == 0;
}

/// <summary>
/// Undoes what a killed portal or a lost Docker engine left: <c>*.partial</c> files, helper containers, and the
/// journals in <c>.inflight/</c> of backups and restores that could not resume their containers. A restore cut off
/// while it changed volumes is rolled back to its safety backup (recorded in its journal) before its services start,
/// and recorded as failed in the audit log; a cut-off backup's folder (no manifest) is deleted. Safe to run twice.
/// The jobs call <see cref="RecoverAsync"/> (or read <see cref="FirstRun"/>) to mark sets failed.
/// </summary>
public sealed class BackupRecovery(
    IDockerEngine docker,
    BackupRunner runner,
    IOptions<BackupOptions> options,
    IOptions<Stack.StackOptions> stackOptions,
    ILogger<BackupRecovery> logger,
    IAuditLog? audit = null)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    private readonly TaskCompletionSource<RecoveryReport> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string Directory => Path.GetFullPath(options.Value.Directory);

    /// <summary>The first run's report, once it has run (the hosted service runs it when the engine answers).</summary>
    public Task<RecoveryReport> FirstRun => _first.Task;

    /// <summary>The start-up pass: partial files, helper containers, then every journal.</summary>
    public async Task<RecoveryReport> RecoverAsync(CancellationToken ct)
    {
        var directory = Directory;
        var partials = System.IO.Directory.Exists(directory) ? Archive.ArchiveWriter.CleanupPartials(directory) : [];
        foreach (var partial in partials)
        {
            BackupLog.Recovered(logger, $"deleted the temporary file {partial}");
        }

        var helpers = await docker.ListHelperContainersAsync(stackOptions.Value.ProjectName, ct);
        foreach (var helper in helpers)
        {
            await docker.RemoveContainerAsync(helper, ct);
            BackupLog.Recovered(logger, $"removed helper container {helper}");
        }

        var journals = await RecoverJournalsAsync(ct);
        var report = new RecoveryReport(partials, helpers, journals.InterruptedSets, journals.ResumedContainers, journals.Problems);
        _first.TrySetResult(report);
        return report;
    }

    /// <summary>Whether a journal waits that no operation of this process owns (its containers still need resuming).</summary>
    public bool HasOrphanedJournals() =>
        InflightJournal.ReadAll(Directory).Any(j => !InflightJournal.IsOwned(j.Path));

    /// <summary>
    /// Every journal no running operation of this process owns: resumes its containers (after rolling a cut-off
    /// restore back). Runs at start-up and again whenever the engine answers after an operation could not resume.
    /// </summary>
    public async Task<RecoveryReport> RecoverJournalsAsync(CancellationToken ct)
    {
        var directory = Directory;
        var interrupted = new List<InflightJournal>();
        var resumed = new List<string>();
        var problems = new List<string>();
        foreach (var (path, journal) in InflightJournal.ReadAll(directory))
        {
            if (InflightJournal.IsOwned(path))
            {
                continue;
            }

            if (journal is null)
            {
                problems.Add($"The journal {path} cannot be read; check the containers it names by hand, then delete it.");
                continue;
            }

            string? rollback = null;
            if (journal is { SafetyFolder: { } safety })
            {
                try
                {
                    rollback = await RollBackAsync(journal, safety, ct);
                }
                catch (Stack.StackBusyException e)
                {
                    // Something else changes the stack now; the volumes stay as they are, with their services stopped,
                    // until the next pass.
                    problems.Add($"The {Vocabulary.Name(journal.Operation)} {journal.SetId} waits to be rolled back: {e.Message}");
                    continue;
                }
            }

            var ok = true;
            foreach (var id in journal.Paused.Concat(journal.Stopped))
            {
                try
                {
                    if (await ResumeAsync(journal, id, ct))
                    {
                        resumed.Add(id);
                    }
                }
                catch (Exception e) when (e is DockerOperationException or DockerNotFoundException)
                {
                    ok = false;
                    problems.Add($"Container {id} of the interrupted {Vocabulary.Name(journal.Operation)} of set {journal.SetId} could not be resumed: {e.Message}");
                }
            }

            // A backup cut off before its manifest leaves a folder that must not be taken for a set.
            if (journal.Operation == InflightJournal.BackupOperation && System.IO.Directory.Exists(journal.Folder)
                && !File.Exists(Path.Combine(journal.Folder, Archive.BackupManifest.FileName))
                && string.Equals(Path.GetDirectoryName(Path.GetFullPath(journal.Folder)), directory, StringComparison.Ordinal))
            {
                System.IO.Directory.Delete(journal.Folder, recursive: true);
                BackupLog.Recovered(logger, $"deleted the incomplete set folder {journal.Folder}");
            }

            if (rollback is not null && audit is not null)
            {
                await audit.RecordAsync(new AuditRecord(BackupAuditActions.SystemUser, BackupAuditActions.RestoreJob, journal.SetId.ToString(), false, rollback),
                    CancellationToken.None);
            }

            interrupted.Add(journal);
            if (ok)
            {
                File.Delete(path);
                BackupLog.Recovered(logger, $"resumed the containers of the interrupted {Vocabulary.Name(journal.Operation)} of set {journal.SetId}");
            }
        }

        return new RecoveryReport([], [], interrupted, resumed, problems);
    }

    /// <summary>Puts the safety backup back with the services stopped; returns what happened, for the audit log.</summary>
    private async Task<string> RollBackAsync(InflightJournal journal, string safety, CancellationToken ct)
    {
        // A restart policy may have started a service again when the engine restarted; it must not run on a half-restored volume.
        foreach (var id in journal.Stopped)
        {
            if (await docker.InspectContainerAsync(id, ct) is { State: ContainerState.Running or ContainerState.Restarting or ContainerState.Paused })
            {
                await docker.StopContainerAsync(id, StopGrace, ct);
            }
        }

        try
        {
            await runner.RollBackAsync(safety, ct);
            BackupLog.Recovered(logger, $"rolled the interrupted {Vocabulary.Name(journal.Operation)} {journal.SetId} back to the safety backup {safety}");
            return $"The {Describe(journal)} was cut off (the portal or the Docker engine stopped) while it changed volumes. " +
                $"Recovery rolled them back to the safety backup {Path.GetFileName(safety)} taken just before, and started their services again.";
        }
        catch (Exception e) when (e is not (DockerUnavailableException or OperationCanceledException or Stack.StackBusyException))
        {
            BackupLog.RollbackFailed(logger, e, journal.SetId, safety);
            return $"The {Describe(journal)} was cut off while it changed volumes, and rolling them back to the safety backup " +
                $"{safety} failed: {e.Message} The volumes may be incomplete; restore that set by hand. Their services were started again.";
        }
    }

    /// <summary>"restore of set …" or "reset …", as recovery's messages name the cut-off run.</summary>
    private static string Describe(InflightJournal journal) =>
        journal.Operation == InflightJournal.RestoreOperation ? $"restore of set {journal.SetId}" : $"{Vocabulary.Name(journal.Operation)} {journal.SetId}";

    /// <summary>Unpauses or starts one container the operation interrupted; true when it did.</summary>
    private async Task<bool> ResumeAsync(InflightJournal journal, string id, CancellationToken ct)
    {
        var live = await docker.InspectContainerAsync(id, ct);
        if (live is null)
        {
            return false; // removed since: nothing to resume
        }

        if (journal.Paused.Contains(id) && live.State == ContainerState.Paused)
        {
            await docker.UnpauseContainerAsync(id, ct);
            return true;
        }

        // A paused container is stopped when its engine shuts down; it was running when the backup paused it.
        if (live.State is ContainerState.Exited or ContainerState.Created)
        {
            await docker.StartContainerAsync(id, ct);
            return true;
        }

        return false;
    }
}

/// <summary>
/// Runs <see cref="BackupRecovery"/> once at start-up, as soon as the Docker engine answers, and afterwards every
/// <see cref="BackupOptions.RecoveryInterval"/> when a journal waits that no running operation owns: a backup or
/// restore that lost the engine could not resume its containers, and they are resumed when the engine is back.
/// </summary>
public sealed class BackupRecoveryService(
    BackupRecovery recovery, IDockerEngine docker, IOptions<BackupOptions> options, ILogger<BackupRecoveryService> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = false;
        var waiting = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                RecoveryReport? report = null;
                if (!started)
                {
                    await docker.GetInfoAsync(stoppingToken);
                    report = await recovery.RecoverAsync(stoppingToken);
                    started = true;
                }
                else if (recovery.HasOrphanedJournals())
                {
                    report = await recovery.RecoverJournalsAsync(stoppingToken);
                }

                waiting = false;
                foreach (var problem in report?.Problems ?? [])
                {
                    if (_reported.Add(problem))
                    {
                        BackupLog.RecoveryProblem(logger, problem);
                    }
                }
            }
            catch (DockerUnavailableException e)
            {
                if (!waiting)
                {
                    BackupLog.RecoveryWaiting(logger, e.Message);
                    waiting = true;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                BackupLog.RecoveryFailed(logger, e);
            }

            await Task.Delay(started ? options.Value.RecoveryInterval : RetryDelay, stoppingToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
