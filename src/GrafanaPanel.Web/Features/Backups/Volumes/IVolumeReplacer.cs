using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>The steps of a volume replacement, as a reset's step log and a restore's progress bar show them.</summary>
public enum ReplacementStepKind
{
    Stop,
    SafetyCopy,
    Restore,
    Empty,
    Rollback,
    Start,
}

/// <summary>One step as it begins: what it acts on (a service, a volume, a list of volumes), and the safety set it takes.</summary>
public sealed record ReplacementStep(ReplacementStepKind Kind, string? Target, string Message, Guid? SafetySetId = null);

/// <summary>Told of every step as it begins and ends (never concurrently), in order.</summary>
public interface IReplacementSteps
{
    Task<object> BeginAsync(ReplacementStep step);

    Task EndAsync(object step, bool succeeded, string message, TimeSpan? took = null);
}

/// <summary>A safety copy of the replaced volumes, taken once their services are stopped, as <paramref name="RequestedBy"/>.</summary>
public sealed record SafetyCopyRequest(BackupTrigger Trigger, string RequestedBy);

/// <summary>
/// Replace the content of volumes with a checked set's archives (<paramref name="Restore"/>) or nothing
/// (<paramref name="Empty"/>), stopping <paramref name="Services"/> around it.
/// </summary>
/// <param name="OperationId">Names the journal: the restored set's id, or the reset run's.</param>
/// <param name="Description">The operation in words, as its error messages begin ("Restoring data from set …", "The reset").</param>
/// <param name="Services">The services to stop (dependents first) and start again (dependencies first).</param>
/// <param name="StartEveryContainer">Start every container of <paramref name="Services"/> afterwards (a reset puts the lab
/// in its running state), not only those that were running.</param>
/// <param name="Parallelism">How many volumes are replaced side by side.</param>
public sealed record VolumeReplacement(
    Guid OperationId,
    JournalOperation Operation,
    string Description,
    CheckedSet? Source,
    IReadOnlyList<string> Restore,
    IReadOnlyList<string> Empty,
    IReadOnlyList<ServiceView> Services,
    bool StartEveryContainer,
    SafetyCopyRequest? SafetyCopy,
    TimeSpan StopGrace,
    int Parallelism = 1)
{
    public IReadOnlyList<string> Replaced => [.. Restore, .. Empty];
}

/// <summary>What a completed replacement took as its safety copy, if any.</summary>
public sealed record ReplacementOutcome(Guid? SafetySetId, string? SafetyFolder);

/// <summary>
/// The one way the portal replaces volumes in place, for a restore and a reset alike: check the archives and the room
/// before anything is touched, then journal → stop in dependency order → safety copy → replace and compare with the
/// manifest → on a failure roll back to the safety copy → start again. A cut-off run is rolled back by start-up
/// recovery from the same journal. The caller holds the stack lock.
/// </summary>
public interface IVolumeReplacer
{
    /// <summary>
    /// Refuses, touching nothing, unless the stack's state is known, every volume is one of the stack's (never the
    /// portal's), each archive of <paramref name="restore"/> in <paramref name="setFolder"/> is intact and fits its volume.
    /// </summary>
    Task<CheckedSet?> CheckAsync(string? setFolder, IReadOnlyList<string> restore, IReadOnlyList<string> empty, IProgress<BackupProgress>? progress, CancellationToken ct);

    Task<ReplacementOutcome> ReplaceAsync(VolumeReplacement replacement, IReplacementSteps? steps, IProgress<BackupProgress>? progress, CancellationToken ct);

    /// <summary>Puts a safety copy back into its volumes (recovery after a cut-off run; the services stay stopped).</summary>
    Task RollBackAsync(string safetyFolder, CancellationToken ct);
}

/// <summary>A replacement failed after it changed a volume; <see cref="RolledBack"/> says whether the safety copy was put back.</summary>
public sealed class ReplacementFailedException(string message, bool rolledBack, Exception inner) : Exception(message, inner)
{
    public bool RolledBack { get; } = rolledBack;
}

/// <summary>Restoring or emptying one volume failed; the message names it.</summary>
public sealed class VolumeReplaceException(string volume, Exception inner) : Exception($"{volume}: {inner.Message}", inner)
{
    public string Volume { get; } = volume;
}
