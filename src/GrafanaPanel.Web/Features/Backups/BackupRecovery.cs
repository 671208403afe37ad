using GrafanaPanel.Web.Docker;
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
/// Undoes what a killed portal left: <c>*.partial</c> files, helper containers, and containers a backup or restore
/// paused or stopped (from the journals in <c>.inflight/</c>); a cut-off backup's folder (no manifest) is deleted.
/// Safe to run twice. The jobs call <see cref="RecoverAsync"/> (or read <see cref="LastReport"/>) to mark sets failed.
/// </summary>
public sealed class BackupRecovery(IDockerEngine docker, IOptions<BackupOptions> options, IOptions<Stack.StackOptions> stackOptions, ILogger<BackupRecovery> logger)
{
    private readonly TaskCompletionSource<RecoveryReport> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The first run's report, once it has run (the hosted service runs it when the engine answers).</summary>
    public Task<RecoveryReport> FirstRun => _first.Task;

    public async Task<RecoveryReport> RecoverAsync(CancellationToken ct)
    {
        var directory = Path.GetFullPath(options.Value.Directory);
        var partials = Directory.Exists(directory) ? Archive.ArchiveWriter.CleanupPartials(directory) : [];
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

        var interrupted = new List<InflightJournal>();
        var resumed = new List<string>();
        var problems = new List<string>();
        foreach (var (path, journal) in InflightJournal.ReadAll(directory))
        {
            if (journal is null)
            {
                problems.Add($"The journal {path} cannot be read; check the containers it names by hand, then delete it.");
                continue;
            }

            var ok = true;
            foreach (var id in journal.Paused.Concat(journal.Stopped))
            {
                try
                {
                    var live = await docker.InspectContainerAsync(id, ct);
                    if (live is null)
                    {
                        continue; // removed since: nothing to resume
                    }

                    if (journal.Paused.Contains(id) && live.State == ContainerState.Paused)
                    {
                        await docker.UnpauseContainerAsync(id, ct);
                        resumed.Add(id);
                    }
                    else if (journal.Stopped.Contains(id) && live.State is not (ContainerState.Running or ContainerState.Restarting))
                    {
                        await docker.StartContainerAsync(id, ct);
                        resumed.Add(id);
                    }
                }
                catch (Exception e) when (e is DockerOperationException or DockerNotFoundException)
                {
                    ok = false;
                    problems.Add($"Container {id} of the interrupted {journal.Operation} of set {journal.SetId} could not be resumed: {e.Message}");
                }
            }

            // A backup cut off before its manifest leaves a folder that must not be taken for a set.
            if (journal.Operation == "backup" && Directory.Exists(journal.Folder)
                && !File.Exists(Path.Combine(journal.Folder, Archive.BackupManifest.FileName))
                && string.Equals(Path.GetDirectoryName(Path.GetFullPath(journal.Folder)), directory, StringComparison.Ordinal))
            {
                Directory.Delete(journal.Folder, recursive: true);
                BackupLog.Recovered(logger, $"deleted the incomplete set folder {journal.Folder}");
            }

            interrupted.Add(journal);
            if (ok)
            {
                File.Delete(path);
                BackupLog.Recovered(logger, $"resumed the containers of the interrupted {journal.Operation} of set {journal.SetId}");
            }
        }

        var report = new RecoveryReport(partials, helpers, interrupted, resumed, problems);
        _first.TrySetResult(report);
        return report;
    }
}

/// <summary>Runs <see cref="BackupRecovery"/> once at start-up, as soon as the Docker engine answers.</summary>
public sealed class BackupRecoveryService(BackupRecovery recovery, IDockerEngine docker, ILogger<BackupRecoveryService> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await docker.GetInfoAsync(stoppingToken);
                await recovery.RecoverAsync(stoppingToken);
                return;
            }
            catch (DockerUnavailableException e)
            {
                BackupLog.RecoveryWaiting(logger, e.Message);
            }

            await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
