using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>What a journal's operation is; written as <c>backup</c>, <c>restore</c> or <c>reset</c>.</summary>
[JsonConverter(typeof(Vocabulary.Json<JournalOperation>))]
public enum JournalOperation
{
    Backup,
    Restore,

    /// <summary>A lab reset (which stops its services like a restore).</summary>
    Reset,
}

/// <summary>
/// <c>&lt;Directory&gt;/.inflight/&lt;setId&gt;.json</c>: what a running backup or restore paused or stopped, written
/// (atomically) before it touches a container and deleted once they run again, so recovery can resume them after
/// the portal was killed or the Docker engine went away.
/// </summary>
/// <param name="Operation">Backup, restore or reset.</param>
/// <param name="Folder">The set's folder (a backup's own, a restore's source).</param>
/// <param name="SafetyFolder">A restore's complete safety backup while the restore may be changing volumes: recovery
/// puts it back before it starts the services. Absent in journals of older versions and once the restore is done.</param>
public sealed record InflightJournal(
    Guid SetId, JournalOperation Operation, string Folder, IReadOnlyList<string> Paused, IReadOnlyList<string> Stopped, DateTimeOffset StartedAt,
    string? SafetyFolder = null)
{
    public const string FolderName = ".inflight";
    public const JournalOperation BackupOperation = JournalOperation.Backup;
    public const JournalOperation RestoreOperation = JournalOperation.Restore;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    // Journals whose operation is still running in this process: recovery leaves them alone until it has finished
    // (and deleted them, or kept them because a container could not be resumed).
    private static readonly ConcurrentDictionary<string, byte> Owned = new(StringComparer.Ordinal);

    public static string PathFor(string backupDirectory, Guid setId) =>
        Path.Combine(Path.GetFullPath(backupDirectory), FolderName, setId.ToString("D") + ".json");

    /// <summary>Writes a new journal, owned by this process until <see cref="Release"/>.</summary>
    public async Task WriteAsync(string backupDirectory, CancellationToken ct)
    {
        var path = PathFor(backupDirectory, SetId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            throw new BackupRefusedException(
                $"Set {SetId} has a journal from an earlier run that was interrupted ({path}); start-up recovery resumes " +
                "its containers first. Try again after the portal has restarted, or with a new set id.");
        }

        Owned[path] = 0;
        try
        {
            await WriteToAsync(path, ct);
        }
        catch
        {
            Owned.TryRemove(path, out _);
            throw;
        }
    }

    /// <summary>Records (or, with null, clears) the restore's safety backup in its journal, atomically.</summary>
    public static async Task SetSafetyFolderAsync(string backupDirectory, Guid setId, string? safetyFolder, CancellationToken ct)
    {
        var path = PathFor(backupDirectory, setId);
        var journal = JsonSerializer.Deserialize<InflightJournal>(await File.ReadAllTextAsync(path, ct), JsonOptions)
            ?? throw new InvalidDataException($"The journal {path} is empty.");
        var update = path + ".update";
        File.Delete(update);
        await (journal with { SafetyFolder = safetyFolder }).WriteToAsync(update, ct);
        File.Move(update, path, overwrite: true);
        AtomicFile.SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>The operation is over: deletes its journal (when <paramref name="delete"/>) and hands any kept one to recovery.</summary>
    public static void Release(string backupDirectory, Guid setId, bool delete)
    {
        var path = PathFor(backupDirectory, setId);
        if (delete)
        {
            File.Delete(path);
            AtomicFile.SyncDirectory(Path.GetDirectoryName(path)!);
        }

        Owned.TryRemove(path, out _);
    }

    /// <summary>Whether the journal's operation is still running in this process.</summary>
    public static bool IsOwned(string path) => Owned.ContainsKey(Path.GetFullPath(path));

    private Task WriteToAsync(string path, CancellationToken ct) =>
        AtomicFile.WriteAsync(path, async (stream, token) =>
        {
            await JsonSerializer.SerializeAsync(stream, this, JsonOptions, token);
            return true;
        }, ct);

    /// <summary>Every journal left in the folder, with the path of any that cannot be read.</summary>
    public static IEnumerable<(string Path, InflightJournal? Journal)> ReadAll(string backupDirectory)
    {
        var folder = Path.Combine(backupDirectory, FolderName);
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        foreach (var path in Directory.EnumerateFiles(folder, "*.json"))
        {
            InflightJournal? journal;
            try
            {
                journal = JsonSerializer.Deserialize<InflightJournal>(File.ReadAllText(path), JsonOptions);
            }
            catch (JsonException)
            {
                journal = null;
            }

            yield return (path, journal);
        }
    }
}
