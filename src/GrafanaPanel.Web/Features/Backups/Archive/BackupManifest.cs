using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// What started a backup set; stored as <c>manual</c>, <c>schedule</c>, <c>pre-reset</c>, <c>pre-restore</c>,
/// <c>baseline</c> or <c>import</c> (see <c>Vocabulary</c>). A manifest holds only the first four, which every portal
/// version reads: a baseline's manifest says manual.
/// </summary>
public enum BackupTrigger
{
    Manual,
    Schedule,

    /// <summary>The safety backup a reset takes first.</summary>
    PreReset,

    /// <summary>The safety backup a restore takes first.</summary>
    PreRestore,

    /// <summary>Captured as a baseline on the Resets page (catalog only).</summary>
    Baseline,

    /// <summary>Uploaded, or found on disk by a rescan without being the portal's own safety backup (catalog only).</summary>
    Import,
}

/// <summary>One volume's archive in a set.</summary>
/// <param name="Name">The Docker volume's name.</param>
/// <param name="ArchiveFile">The archive's file name in the set's folder (no folder part).</param>
/// <param name="RootName">The tar's top-level folder; a restore refuses an archive with another one.</param>
/// <param name="TarBytes">Uncompressed tar size: the exact size a restore decompresses.</param>
/// <param name="CompressedBytes">The archive file's size.</param>
/// <param name="EntryCount">Tar entries, the root folder included (1 for an empty volume).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the archive file.</param>
/// <param name="Images">Images of the containers that used the volume when it was backed up.</param>
/// <param name="Services">Compose services of those containers.</param>
public sealed record ManifestVolume(
    string Name,
    string ArchiveFile,
    string RootName,
    long TarBytes,
    long CompressedBytes,
    int EntryCount,
    string Sha256,
    IReadOnlyList<string> Images,
    IReadOnlyList<string> Services)
{
    public static ManifestVolume FromArchive(
        string volumeName, ArchiveWriteResult archive, IReadOnlyList<string> images, IReadOnlyList<string> services) =>
        new(volumeName, Path.GetFileName(archive.Path), archive.RootName, archive.TarBytes, archive.CompressedBytes,
            archive.EntryCount, archive.Sha256, images, services);
}

/// <summary>The manifest of a backup set was missing, unreadable or inconsistent.</summary>
public sealed class InvalidManifestException(string path, string problem, Exception? inner = null)
    : Exception($"The backup manifest '{path}' is invalid: {problem}", inner)
{
    public string ManifestPath { get; } = path;
}

/// <summary>
/// The <c>manifest.json</c> in each backup set's folder: the truth about the set that a catalog rescan rebuilds
/// from. Written atomically; read back with every field checked, since a set may be imported from elsewhere.
/// </summary>
public sealed partial record BackupManifest(
    Guid SetId,
    DateTimeOffset CreatedAt,
    BackupTrigger Trigger,
    BackupMode Mode,
    ArchiveCompression Compression,
    IReadOnlyList<ManifestVolume> Volumes)
{
    public const string FileName = "manifest.json";
    public const int CurrentFormatVersion = 1;

    // A manifest is a few KiB; anything far larger is not one, and is not read into memory.
    private const long MaxManifestBytes = 1 << 20;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
        // A missing or null field is an error naming the field, not a silent default.
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Bumped when the format changes incompatibly; a newer manifest is refused, not misread.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    public ManifestVolume? FindVolume(string volumeName) => Volumes.FirstOrDefault(v => v.Name == volumeName);

    /// <summary>Writes <c>manifest.json</c> into <paramref name="setDirectory"/> atomically; never replaces one.</summary>
    public async Task WriteAsync(string setDirectory, CancellationToken ct)
    {
        var path = Path.Combine(setDirectory, FileName);
        if (Problems().FirstOrDefault() is { } problem)
        {
            throw new InvalidManifestException(path, problem);
        }

        await AtomicFile.WriteAsync(path, async (stream, token) =>
        {
            await JsonSerializer.SerializeAsync(stream, this, JsonOptions, token);
            return true;
        }, ct);
    }

    /// <summary>Reads and checks <c>manifest.json</c> in <paramref name="setDirectory"/>.</summary>
    /// <exception cref="InvalidManifestException">Missing, too large, not JSON, a field missing or wrong.</exception>
    public static async Task<BackupManifest> ReadAsync(string setDirectory, CancellationToken ct)
    {
        var path = Path.GetFullPath(Path.Combine(setDirectory, FileName));
        BackupManifest? manifest;
        try
        {
            await using var stream = File.OpenRead(path);
            if (stream.Length > MaxManifestBytes)
            {
                throw new InvalidManifestException(path, $"it is {stream.Length} bytes, more than a manifest's {MaxManifestBytes}.");
            }

            manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(stream, JsonOptions, ct);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidManifestException(path, "the file does not exist.", e);
        }
        catch (JsonException e)
        {
            var where = e.Path is null ? "" : $" at {e.Path}" + (e.LineNumber is { } line ? $" (line {line + 1})" : "");
            throw new InvalidManifestException(path, $"it is not a valid manifest{where}: {e.Message}", e);
        }

        if (manifest is null)
        {
            throw new InvalidManifestException(path, "it holds JSON null instead of a manifest.");
        }

        var problems = manifest.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new InvalidManifestException(path, string.Join(" ", problems));
        }

        return manifest;
    }

    private IEnumerable<string> Problems()
    {
        if (FormatVersion != CurrentFormatVersion)
        {
            yield return $"formatVersion is {FormatVersion}; this portal reads version {CurrentFormatVersion}.";
        }

        if (SetId == Guid.Empty)
        {
            yield return "setId is empty.";
        }

        if (CreatedAt == default)
        {
            yield return "createdAt is missing.";
        }

        if (!Enum.IsDefined(Trigger) || !Enum.IsDefined(Mode) || !Enum.IsDefined(Compression))
        {
            yield return "trigger, mode or compression has an unknown value.";
        }

        if (Volumes.Count == 0)
        {
            yield return "volumes is empty; a set holds at least one volume.";
        }

        for (var i = 0; i < Volumes.Count; i++)
        {
            if (Volumes[i] is null)
            {
                yield return $"volumes[{i}] is null.";
                continue;
            }

            foreach (var problem in VolumeProblems(Volumes[i]))
            {
                yield return $"volumes[{i}].{problem}";
            }
        }

        foreach (var name in Volumes.OfType<ManifestVolume>().GroupBy(v => v.Name).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            yield return $"volume '{name}' is listed more than once.";
        }

        foreach (var file in Volumes.OfType<ManifestVolume>().GroupBy(v => v.ArchiveFile).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            yield return $"archive file '{file}' is listed for more than one volume.";
        }
    }

    private IEnumerable<string> VolumeProblems(ManifestVolume volume)
    {
        if (!DockerVolumeName().IsMatch(volume.Name))
        {
            yield return "name is not a Docker volume name.";
        }

        // The archive is opened as setDirectory/archiveFile: a folder part or '..' would reach outside the set.
        if (!IsPlainSegment(volume.ArchiveFile) || volume.ArchiveFile.StartsWith('.')
            || ArchiveCompressionStreams.FromFileName(volume.ArchiveFile) != Compression)
        {
            yield return $"archiveFile must be a plain file name ending in {Compression.FileExtension()}.";
        }

        if (!IsPlainSegment(volume.RootName))
        {
            yield return "rootName must be one folder name.";
        }

        if (volume.TarBytes <= 0 || volume.CompressedBytes <= 0 || volume.EntryCount < 1)
        {
            yield return "tarBytes and compressedBytes must be positive and entryCount at least 1.";
        }

        if (!Sha256Hex().IsMatch(volume.Sha256))
        {
            yield return "sha256 must be 64 lower-case hexadecimal digits.";
        }

        if (volume.Images.Any(string.IsNullOrWhiteSpace) || volume.Services.Any(string.IsNullOrWhiteSpace))
        {
            yield return "images and services may not hold empty names.";
        }
    }

    private static bool IsPlainSegment(string name) =>
        name.Length is > 0 and <= 255 && name is not "." and not ".." && name.IndexOfAny(['/', '\\', '\0']) < 0;

    // Docker's own rule for volume names.
    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex DockerVolumeName();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
