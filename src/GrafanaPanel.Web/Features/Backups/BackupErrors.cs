namespace GrafanaPanel.Web.Features.Backups;

/// <summary>A backup, restore or verification was refused before anything was touched (unknown or portal volume,
/// not enough room, a corrupt archive's set, a bad name). The message says why, with the numbers where there are some.</summary>
public sealed class BackupRefusedException(string message, Exception? inner = null) : PanelRefusalException(message, inner);

/// <summary>Putting a volume's new content in failed before its old content was deleted; what the upload wrote was
/// removed and the old content put back where it was. The volume holds what it held before the restore.</summary>
public sealed class OldContentPutBackException(string volume, Exception inner)
    : Exception($"{inner.Message} What was written into {volume} was removed and its previous content put back; nothing was lost.", inner)
{
    public string Volume { get; } = volume;
}

/// <summary>Putting a volume's new content in failed before its old content was deleted, and so did putting the old
/// content back: the old content is still in the volume, moved aside into <see cref="Folder"/> (a folder at the
/// volume's top), and the message says so.</summary>
public sealed class OldContentKeptException(string volume, string folder, Exception inner)
    : Exception($"{inner.Message} The previous content of {volume} is kept inside it, in the folder {folder}; nothing was deleted.", inner)
{
    public string Volume { get; } = volume;

    public string Folder { get; } = folder;
}
