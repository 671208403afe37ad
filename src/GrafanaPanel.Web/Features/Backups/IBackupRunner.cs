using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>What to back up: named volumes of the stack, taken together.</summary>
public sealed record BackupRequest(Guid SetId, IReadOnlyList<string> Volumes, BackupMode Mode, ArchiveCompression Compression, BackupTrigger Trigger);

/// <summary>Progress of a running backup, restore or verification, for a live progress bar (bytes and throughput).</summary>
public sealed record BackupProgress(string Step, string? Volume, long Bytes, long? TotalBytes);

/// <summary>A finished backup set: its folder under the backup directory and its manifest.</summary>
public sealed record BackupOutcome(Guid SetId, string Folder, BackupManifest Manifest, TimeSpan Duration);

/// <summary>
/// Restore of a set (all its volumes, or the named ones) in place, or of one volume into a new volume.
/// In place takes a safety backup first (unless told not to) and rolls back to it on any failure.
/// </summary>
/// <param name="RequestedBy">Who asked: the safety backup is recorded in the catalog as theirs.</param>
public sealed record RestoreRequest(
    string Folder, IReadOnlyList<string>? Volumes = null, string? IntoNewVolume = null, bool SafetyBackup = true, string RequestedBy = BackupAuditActions.SystemUser);

public sealed record RestoreOutcome(IReadOnlyList<string> Volumes, Guid? SafetyBackupSetId, TimeSpan Duration);

/// <summary>Re-reads a set's archives (hash and tar structure), and optionally test-restores them into scratch volumes and compares.</summary>
/// <param name="Corrupt">An archive is there but does not match its hash or size, or its tar is broken: the set must not be used.</param>
public sealed record VerifyOutcome(bool Passed, string Message, TimeSpan Duration, bool Corrupt = false);

/// <summary>The Docker-facing backup engine; jobs call it with ids from the catalog.</summary>
public interface IBackupRunner
{
    Task<BackupOutcome> BackupAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct);

    Task<RestoreOutcome> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken ct);

    Task<VerifyOutcome> VerifyAsync(string folder, bool testRestore, IProgress<BackupProgress>? progress, CancellationToken ct);
}
