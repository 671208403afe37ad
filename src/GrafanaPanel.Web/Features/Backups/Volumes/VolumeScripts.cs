namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>
/// The shell scripts the helper containers run (<c>sh -c SCRIPT name args…</c>), kept as files in <c>Scripts/</c> beside
/// this code and embedded in the assembly. Fixed text of the portal's: no script is ever built from a request.
/// </summary>
internal static class VolumeScripts
{
    /// <summary>Moves a volume's old content into a trash folder inside it, or empties it when there is no room; see the file.</summary>
    public static readonly string MoveAside = Read("move-aside.sh");

    /// <summary>Puts the old content back from the trash folder after a failed upload, removing the new; see the file.</summary>
    public static readonly string PutBack = Read("put-back.sh");

    /// <summary>Free bytes (and, when short, the bytes a volume's content takes) for each volume; see the file.</summary>
    public static readonly string Room = Read("room.sh");

    /// <summary>Entries and bytes of regular files a volume holds, a folder left out; see the file.</summary>
    public static readonly string Listing = Read("listing.sh");

    /// <summary>The move-aside script's exit code when the disk lacks room to keep the old content: it emptied the volume.</summary>
    public const int NotEnoughRoomToKeep = 10;

    /// <summary>The move-aside script's exit code when even an emptied volume could not hold the new content: it touched nothing.</summary>
    public const int NoRoomAtAll = 11;

    private static string Read(string name)
    {
        using var stream = typeof(VolumeScripts).Assembly.GetManifestResourceStream("GrafanaPanel.Web.VolumeScripts." + name)
            ?? throw new InvalidOperationException($"The helper script {name} is not embedded in the portal's assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
