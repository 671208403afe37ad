using System.Text.Json;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// <c>&lt;Directory&gt;/.inflight/&lt;setId&gt;.json</c>: what a running backup or restore paused or stopped, written
/// (atomically) before it touches a container and deleted once they run again, so start-up recovery can resume them
/// after the portal was killed.
/// </summary>
/// <param name="Operation">"backup" or "restore".</param>
/// <param name="Folder">The set's folder (a backup's own, a restore's source).</param>
public sealed record InflightJournal(
    Guid SetId, string Operation, string Folder, IReadOnlyList<string> Paused, IReadOnlyList<string> Stopped, DateTimeOffset StartedAt)
{
    public const string FolderName = ".inflight";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string PathFor(string backupDirectory, Guid setId) =>
        Path.Combine(backupDirectory, FolderName, setId.ToString("D") + ".json");

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

        await AtomicFile.WriteAsync(path, async (stream, token) =>
        {
            await JsonSerializer.SerializeAsync(stream, this, JsonOptions, token);
            return true;
        }, ct);
    }

    public static void Delete(string backupDirectory, Guid setId)
    {
        File.Delete(PathFor(backupDirectory, setId));
        AtomicFile.SyncDirectory(Path.Combine(backupDirectory, FolderName));
    }

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
