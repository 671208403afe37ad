namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// A volume's archive that passed <see cref="ArchiveVerifier.OpenValidatedTarAsync"/>: <see cref="Tar"/> is its
/// decompressed tar, ready to upload with Docker's <c>PUT /containers/{id}/archive</c>. Dispose it after the upload.
/// </summary>
public sealed class ValidatedArchive : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly HashingStream _hashing;

    internal ValidatedArchive(FileStream file, HashingStream hashing, Stream tar, TarSummary summary)
    {
        _file = file;
        _hashing = hashing;
        Tar = tar;
        Summary = summary;
    }

    /// <summary>The uncompressed tar. Reading it re-hashes the file; if the file changed since it was validated,
    /// the read that reaches its end throws <see cref="ArchiveIntegrityException"/>.</summary>
    public Stream Tar { get; }

    public TarSummary Summary { get; }

    public async ValueTask DisposeAsync()
    {
        await Tar.DisposeAsync();
        await _hashing.DisposeAsync();
        await _file.DisposeAsync();
    }
}

/// <summary>
/// Checks an archive file before anything is restored from it, in this order: its size and SHA-256 against the
/// recorded ones (a flipped byte or a truncation is refused before the tar is even decompressed), then every
/// entry (<see cref="TarSafetyValidator"/>), then the entry count and tar size against the manifest.
/// </summary>
public static class ArchiveVerifier
{
    private const int ReadChunk = 1 << 20;

    /// <summary>Refuses the file unless its SHA-256 (and size, when given) is the expected one.</summary>
    /// <exception cref="ArchiveIntegrityException">A different size, a different hash, or no such file.</exception>
    public static async Task VerifyHashAsync(string path, string expectedSha256, long? expectedBytes, CancellationToken ct)
    {
        await using var file = OpenArchive(path);
        await VerifyHashAsync(file, path, expectedSha256, expectedBytes, ct);
    }

    /// <summary>Hash first, then every entry; returns what the tar holds. Nothing is written.</summary>
    public static async Task<TarSummary> ValidateAsync(
        string path, ArchiveCompression compression, string expectedSha256, TarSafetyOptions options, CancellationToken ct)
    {
        await using var file = OpenArchive(path);
        await VerifyHashAsync(file, path, expectedSha256, expectedBytes: null, ct);
        file.Position = 0;
        await using var tar = compression.OpenDecompressor(file);
        return await TarSafetyValidator.ValidateAsync(tar, options, ct);
    }

    /// <summary>Validates one volume of a set as its manifest records it (hash, size, root, entries).</summary>
    public static async Task<TarSummary> ValidateAsync(
        string setDirectory, BackupManifest manifest, ManifestVolume volume, CancellationToken ct)
    {
        await using var validated = await OpenValidatedTarAsync(setDirectory, manifest, volume, ct);
        return validated.Summary;
    }

    /// <summary>
    /// Validates one volume's archive like <see cref="ValidateAsync(string, BackupManifest, ManifestVolume, CancellationToken)"/>,
    /// then hands out its decompressed tar for upload. Two passes over one open handle: the validation pass
    /// reads and discards, so a refused archive has written nothing; the upload pass decompresses again (cheaper
    /// than holding the tar on disk or in memory) and re-hashes as it goes, so a file changed between the two
    /// passes is caught at the end of the upload, where the restore job's rollback takes over.
    /// </summary>
    public static async Task<ValidatedArchive> OpenValidatedTarAsync(
        string setDirectory, BackupManifest manifest, ManifestVolume volume, CancellationToken ct)
    {
        var path = Path.Combine(setDirectory, volume.ArchiveFile);
        var file = OpenArchive(path);
        try
        {
            await VerifyHashAsync(file, path, volume.Sha256, volume.CompressedBytes, ct);
            file.Position = 0;
            TarSummary summary;
            await using (var tar = manifest.Compression.OpenDecompressor(file))
            {
                summary = await TarSafetyValidator.ValidateAsync(tar, TarSafetyOptions.ForManifestVolume(volume), ct);
            }

            if (summary.EntryCount != volume.EntryCount || summary.TarBytes != volume.TarBytes)
            {
                throw new ArchiveIntegrityException(path,
                    $"it holds {summary.EntryCount} entries in {summary.TarBytes} tar bytes, but the manifest records " +
                    $"{volume.EntryCount} entries in {volume.TarBytes} bytes.");
            }

            file.Position = 0;
            var hashing = new HashingStream(file, leaveOpen: true, onEnd: reread =>
            {
                if (reread.Sha256Hex() != volume.Sha256)
                {
                    throw new ArchiveIntegrityException(path, "the file changed after it was validated; do not trust what was uploaded from it.");
                }
            });
            return new ValidatedArchive(file, hashing, manifest.Compression.OpenDecompressor(hashing), summary);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    private static FileStream OpenArchive(string path)
    {
        try
        {
            // FileShare.Read: other writers of this process are kept out while the archive is checked and read.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ArchiveIntegrityException(path, "the file does not exist.", e);
        }
    }

    private static async Task VerifyHashAsync(FileStream file, string path, string expectedSha256, long? expectedBytes, CancellationToken ct)
    {
        if (expectedBytes is { } expected && file.Length != expected)
        {
            throw new ArchiveIntegrityException(path, file.Length < expected
                ? $"it is {file.Length} bytes but {expected} were recorded: the file is truncated."
                : $"it is {file.Length} bytes but {expected} were recorded: data was added to it.");
        }

        using var hashing = new HashingStream(file, leaveOpen: true);
        var buffer = new byte[ReadChunk];
        while (await hashing.ReadAsync(buffer, ct) > 0)
        {
        }

        var actual = hashing.Sha256Hex();
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArchiveIntegrityException(path,
                $"its SHA-256 is {actual} but {expectedSha256} was recorded: the file is corrupt or truncated.");
        }
    }
}
