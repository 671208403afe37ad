using System.Formats.Tar;
using System.Text;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// The per-entry safety rules, applied to the entries of one archive in order. It remembers every name (duplicates,
/// hard-link targets, paths through links) and every symbolic link (where links lead, also through other links).
/// </summary>
internal sealed class TarEntryRules(TarSafetyOptions options)
{
    // Linux follows at most 40 links when resolving one path; a longer chain (or a loop) would fail there too.
    private const int MaxLinkHops = 40;

    private const string FileCapabilities = "SCHILY.xattr.security.capability";

    // Extended attributes as PAX records: only the user namespace is restored (docs/security.md, "Extended attributes").
    private const string SchilyXattr = "SCHILY.xattr.";
    private const string LibarchiveXattr = "LIBARCHIVE.xattr.";
    private const string AllowedXattrNamespace = "user.";

    // What Go's archive/tar writes and reads alike. Not "mode": .NET applies it over the header's mode and Go
    // ignores it, so a file could pass as 0644 here and be extracted setuid.
    private static readonly HashSet<string> KnownPaxAttributes =
        new(["path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime"], StringComparer.Ordinal);

    private readonly Dictionary<string, Kind> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Target, string EntryName)> _symlinks = new(StringComparer.Ordinal);
    private string? _root;

    private enum Kind
    {
        Directory,
        ImpliedDirectory,
        File,
        Symlink,
    }

    public int EntryCount { get; private set; }

    public long FileBytes { get; private set; }

    public string? RootName => _root;

    public void Check(TarEntry entry)
    {
        var name = entry.Name;
        var type = entry.EntryType;
        if (type == TarEntryType.GlobalExtendedAttributes)
        {
            // Its name is made up by the writer; what matters is that it would apply to every later entry.
            throw new UnsafeArchiveException(TarRule.UnsupportedType, name,
                "a global PAX header changes how every later entry is read; Docker never writes one.");
        }

        var isDirectory = type == TarEntryType.Directory;
        var segments = SplitPath(name, name, isDirectory, TarRule.AbsolutePath, "an absolute path would be written outside the volume");

        EntryCount++;
        if (EntryCount > options.MaxEntries)
        {
            throw new UnsafeArchiveException(TarRule.TooManyEntries, name, $"the archive has more than {options.MaxEntries} entries.");
        }

        if (_root is null)
        {
            CheckRoot(name, segments, type);
            _root = segments[0];
            _seen[""] = Kind.Directory;
            return;
        }

        if (segments[0] != _root)
        {
            throw new UnsafeArchiveException(TarRule.OutsideRoot, name, $"the entry is not under the archive's root folder '{_root}/'.");
        }

        var relative = string.Join('/', segments, 1, segments.Length - 1);
        if (_seen.TryGetValue(relative, out var earlier) && !(isDirectory && earlier == Kind.ImpliedDirectory))
        {
            throw new UnsafeArchiveException(TarRule.DuplicateName, name,
                "an entry of that name came earlier in the archive; extracting both would silently replace the first.");
        }

        CheckParents(name, segments);
        CheckType(entry, name, segments, relative);
        CheckPaxAttributes(entry, name);
    }

    /// <summary>After the last entry: every link must still stay inside once all later links are known.</summary>
    public void Complete()
    {
        foreach (var (path, (target, entryName)) in _symlinks)
        {
            var parent = path.Contains('/') ? path[..path.LastIndexOf('/')] : "";
            CheckSymlinkTarget(entryName, parent, target);
        }
    }

    private void CheckRoot(string name, string[] segments, TarEntryType type)
    {
        if (options.ExpectedRoot is { } expected && segments[0] != expected)
        {
            throw new UnsafeArchiveException(TarRule.WrongRoot, name,
                $"the archive's root folder is '{segments[0]}/' but '{expected}/' was expected: it is an archive of another volume.");
        }

        if (segments.Length != 1 || type != TarEntryType.Directory)
        {
            throw new UnsafeArchiveException(TarRule.OutsideRoot, name,
                $"the first entry must be the volume's root folder '{segments[0]}/' (Docker always writes it first).");
        }
    }

    private void CheckParents(string name, string[] segments)
    {
        var parent = new StringBuilder();
        for (var i = 1; i < segments.Length - 1; i++)
        {
            if (i > 1)
            {
                parent.Append('/');
            }

            parent.Append(segments[i]);
            var key = parent.ToString();
            if (!_seen.TryGetValue(key, out var kind))
            {
                _seen[key] = Kind.ImpliedDirectory;
                continue;
            }

            switch (kind)
            {
                case Kind.Symlink:
                    throw new UnsafeArchiveException(TarRule.ThroughSymlink, name,
                        $"it would be written through the symbolic link '{_root}/{key}', which can point anywhere.");
                case Kind.File:
                    throw new UnsafeArchiveException(TarRule.ParentNotDirectory, name,
                        $"its parent '{_root}/{key}' is a file in this archive, not a folder.");
            }
        }
    }

    private void CheckType(TarEntry entry, string name, string[] segments, string relative)
    {
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if ((entry.Mode & UnixFileMode.SetUser) != 0)
                {
                    throw new UnsafeArchiveException(TarRule.SetuidSetgid, name, "a folder with the setuid bit has no use on Linux and is not restored.");
                }

                // setgid on a folder is ordinary (new files inherit its group), so it is allowed.
                _seen[relative] = Kind.Directory;
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                CheckSetuid(entry, name);
                FileBytes += entry.Length;
                _seen[relative] = Kind.File;
                break;
            case TarEntryType.HardLink:
                CheckSetuid(entry, name);
                CheckHardLinkTarget(name, entry.LinkName);
                _seen[relative] = Kind.File;
                break;
            case TarEntryType.SymbolicLink:
                var parent = string.Join('/', segments, 1, segments.Length - 2);
                CheckSymlinkTarget(name, parent, entry.LinkName);
                _seen[relative] = Kind.Symlink;
                _symlinks[relative] = (entry.LinkName, name);
                break;
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                throw new UnsafeArchiveException(TarRule.DeviceFile, name,
                    "device files give whoever opens them access to hardware; a data volume has no use for them.");
            case TarEntryType.Fifo:
                throw new UnsafeArchiveException(TarRule.Fifo, name,
                    "a FIFO blocks whatever opens it and holds no data; a data volume has no use for one.");
            default:
                throw new UnsafeArchiveException(TarRule.UnsupportedType, name,
                    $"entries of type {entry.EntryType} are not restored (Docker writes only folders, files and links).");
        }
    }

    /// <summary>
    /// Only the PAX attributes Docker's Go tar writer produces. Readers disagree about the others (GNU.sparse.name
    /// renames an entry in one reader and not in another), and an entry must extract as it was checked. Extended
    /// attributes are allow-listed: the daemon sets every one it finds while it extracts (as root), so only the
    /// unprivileged <c>user.*</c> namespace passes; <c>security.*</c> (file capabilities, SELinux and IMA labels),
    /// <c>trusted.*</c> (overlayfs metadata) and <c>system.*</c> (ACLs) are refused, as is libarchive's spelling.
    /// </summary>
    private static void CheckPaxAttributes(TarEntry entry, string name)
    {
        if (entry is not PaxTarEntry pax)
        {
            return;
        }

        foreach (var key in pax.ExtendedAttributes.Keys)
        {
            if (key == FileCapabilities)
            {
                throw new UnsafeArchiveException(TarRule.SetuidSetgid, name,
                    "the file carries Linux capabilities (security.capability), which give a program root's powers like setuid does; " +
                    "a lab's data volumes hold data, not privileged programs.");
            }

            if (key.StartsWith(SchilyXattr, StringComparison.Ordinal) || key.StartsWith(LibarchiveXattr, StringComparison.Ordinal))
            {
                var xattr = key[(key.IndexOf(".xattr.", StringComparison.Ordinal) + ".xattr.".Length)..];
                if (!key.StartsWith(SchilyXattr, StringComparison.Ordinal) || !xattr.StartsWith(AllowedXattrNamespace, StringComparison.Ordinal)
                    || xattr.Length == AllowedXattrNamespace.Length)
                {
                    throw new UnsafeArchiveException(TarRule.ExtendedAttribute, name,
                        $"the entry carries the extended attribute '{UnsafeArchiveException.Display(xattr)}' (PAX record " +
                        $"'{UnsafeArchiveException.Display(key)}'); only user.* attributes are restored (as SCHILY.xattr.user.*), " +
                        "since the daemon sets every attribute it extracts as root.");
                }

                continue;
            }

            if (!KnownPaxAttributes.Contains(key))
            {
                throw new UnsafeArchiveException(TarRule.UnsupportedType, name,
                    $"the PAX attribute '{UnsafeArchiveException.Display(key)}' is not one Docker writes; tar readers disagree on such attributes.");
            }
        }
    }

    private static void CheckSetuid(TarEntry entry, string name)
    {
        if ((entry.Mode & (UnixFileMode.SetUser | UnixFileMode.SetGroup)) != 0)
        {
            throw new UnsafeArchiveException(TarRule.SetuidSetgid, name,
                "a setuid or setgid file runs with its owner's or group's rights in any container that executes it; " +
                "a lab's data volumes hold data, not privileged programs.");
        }
    }

    private void CheckHardLinkTarget(string name, string target)
    {
        var segments = SplitPath(target, name, isDirectory: false, TarRule.HardLinkTarget,
            $"the hard link points at '{UnsafeArchiveException.Display(target)}', outside the archive");
        if (segments[0] != _root)
        {
            throw new UnsafeArchiveException(TarRule.HardLinkTarget, name,
                $"the hard link points at '{UnsafeArchiveException.Display(target)}', outside the archive's root folder '{_root}/'.");
        }

        var relative = string.Join('/', segments, 1, segments.Length - 1);
        if (!_seen.TryGetValue(relative, out var kind) || kind == Kind.ImpliedDirectory)
        {
            throw new UnsafeArchiveException(TarRule.HardLinkTarget, name,
                $"the hard link points at '{UnsafeArchiveException.Display(target)}', which is not an earlier entry of this archive.");
        }

        if (kind == Kind.Directory)
        {
            throw new UnsafeArchiveException(TarRule.HardLinkTarget, name,
                $"the hard link points at the folder '{UnsafeArchiveException.Display(target)}'.");
        }
    }

    private void CheckSymlinkTarget(string name, string parent, string target)
    {
        if (target.Length == 0 || target.Contains('\0'))
        {
            throw new UnsafeArchiveException(TarRule.SymlinkEscapes, name, "the symbolic link has an empty or invalid target.");
        }

        if (target.Contains('\\'))
        {
            throw new UnsafeArchiveException(TarRule.Backslash, name,
                $"the symbolic link's target '{UnsafeArchiveException.Display(target)}' contains a backslash, a path separator for Windows tools.");
        }

        if (target.StartsWith('/'))
        {
            throw new UnsafeArchiveException(TarRule.SymlinkEscapes, name,
                $"the symbolic link points at the absolute path '{UnsafeArchiveException.Display(target)}', outside the volume.");
        }

        if (Encoding.UTF8.GetByteCount(target) > options.MaxPathBytes)
        {
            throw new UnsafeArchiveException(TarRule.PathTooLong, name, $"the symbolic link's target is longer than {options.MaxPathBytes} bytes.");
        }

        var position = parent.Length == 0 ? [] : new List<string>(parent.Split('/'));
        var hops = 0;
        if (!Resolve(position, target, ref hops, out var loop))
        {
            throw new UnsafeArchiveException(TarRule.SymlinkEscapes, name, loop
                ? $"the symbolic link '{UnsafeArchiveException.Display(target)}' starts a loop or a chain of more than {MaxLinkHops} links."
                : $"the symbolic link points at '{UnsafeArchiveException.Display(target)}', which leads outside the volume's root folder '{_root}/'.");
        }
    }

    /// <summary>
    /// Walks <paramref name="target"/> from <paramref name="position"/> (folders below the root) the way the kernel
    /// would: <c>..</c> after a link goes up from where the link leads, not from the link. False when the walk
    /// leaves the root or follows too many links.
    /// </summary>
    private bool Resolve(List<string> position, string target, ref int hops, out bool loop)
    {
        loop = false;
        foreach (var part in target.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (position.Count == 0)
                {
                    return false;
                }

                position.RemoveAt(position.Count - 1);
                continue;
            }

            position.Add(part);
            if (_symlinks.TryGetValue(string.Join('/', position), out var link))
            {
                if (++hops > MaxLinkHops)
                {
                    loop = true;
                    return false;
                }

                position.RemoveAt(position.Count - 1);
                if (!Resolve(position, link.Target, ref hops, out loop))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Splits an entry name (or hard-link target) into its segments, refusing anything not canonical.</summary>
    private string[] SplitPath(string path, string entryName, bool isDirectory, TarRule absoluteRule, string absoluteReason)
    {
        if (path.Length == 0 || path.Contains('\0'))
        {
            throw new UnsafeArchiveException(TarRule.NonCanonicalPath, entryName, "the name is empty or contains a NUL character.");
        }

        if (path.Contains('\\'))
        {
            throw new UnsafeArchiveException(TarRule.Backslash, entryName,
                "the name contains a backslash, which Windows tools read as a path separator (so '..\\' climbs out there).");
        }

        if (path.StartsWith('/'))
        {
            throw new UnsafeArchiveException(absoluteRule, entryName, absoluteReason + ".");
        }

        if (Encoding.UTF8.GetByteCount(path) > options.MaxPathBytes)
        {
            throw new UnsafeArchiveException(TarRule.PathTooLong, entryName,
                $"the path is longer than {options.MaxPathBytes} bytes (Linux's PATH_MAX).");
        }

        var trimmed = isDirectory && path.EndsWith('/') ? path[..^1] : path;
        var segments = trimmed.Split('/');
        foreach (var segment in segments)
        {
            if (segment == "..")
            {
                throw new UnsafeArchiveException(TarRule.ParentSegment, entryName, "a '..' segment climbs out of the folder it is extracted into.");
            }

            if (segment.Length == 0 || segment == ".")
            {
                throw new UnsafeArchiveException(TarRule.NonCanonicalPath, entryName,
                    "the name has an empty or '.' segment; Docker never writes such names, and they hide duplicates.");
            }

            if (Encoding.UTF8.GetByteCount(segment) > options.MaxNameBytes)
            {
                throw new UnsafeArchiveException(TarRule.PathTooLong, entryName,
                    $"a segment of the path is longer than {options.MaxNameBytes} bytes (Linux's NAME_MAX), so it cannot be created.");
            }
        }

        return segments;
    }
}
