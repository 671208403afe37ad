using System.Text;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>An archive was refused before anything was restored from it. Catch this to handle both kinds.</summary>
public abstract class ArchiveRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The archive file is not the one that was written: its SHA-256 or size differs (corrupt or truncated),
/// or its content disagrees with the manifest.</summary>
public sealed class ArchiveIntegrityException(string path, string problem, Exception? inner = null)
    : ArchiveRejectedException($"Archive '{path}' failed its integrity check: {problem}", inner)
{
    public string ArchivePath { get; } = path;
}

/// <summary>Why a tar was refused.</summary>
public enum TarRule
{
    AbsolutePath,
    ParentSegment,
    Backslash,
    NonCanonicalPath,
    PathTooLong,
    OutsideRoot,
    WrongRoot,
    SymlinkEscapes,
    ThroughSymlink,
    ParentNotDirectory,
    HardLinkTarget,
    DeviceFile,
    Fifo,
    UnsupportedType,
    SetuidSetgid,
    DuplicateName,
    TooLarge,
    HeaderTooLarge,
    TooManyEntries,
    Truncated,
    Corrupt,
    TrailingData,
    Empty,
    ExtendedAttribute,
}

/// <summary>
/// A tar entry (or the tar's structure) breaks a safety rule. <see cref="EntryName"/> is the entry as written in
/// the archive (null where the problem is not one entry's, e.g. an empty archive); the message names it and the
/// rule.
/// </summary>
public sealed class UnsafeArchiveException : ArchiveRejectedException
{
    public UnsafeArchiveException(TarRule rule, string? entryName, string reason, Exception? inner = null)
        : base(Describe(rule, entryName, reason), inner)
    {
        Rule = rule;
        EntryName = entryName;
    }

    public TarRule Rule { get; }

    public string? EntryName { get; }

    /// <summary>An entry name fit for a message and a log line: control characters escaped (a name may hold a
    /// newline), and very long names shortened in the middle.</summary>
    public static string Display(string name)
    {
        const int MaxShown = 1024;
        var shown = name.Length <= MaxShown ? name : $"{name[..700]}…({name.Length - 900} more characters)…{name[^200..]}";
        var builder = new StringBuilder(shown.Length + 2);
        foreach (var c in shown)
        {
            if (char.IsControl(c))
            {
                builder.Append($"\\x{(int)c:x2}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string Describe(TarRule rule, string? entryName, string reason) => entryName is null
        ? $"Unsafe archive ({rule}): {reason}"
        : $"Unsafe archive entry '{Display(entryName)}' ({rule}): {reason}";
}
