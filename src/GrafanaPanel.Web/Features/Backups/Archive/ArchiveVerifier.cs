using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// Checks an archive file before anything is restored from it: its size against the recorded one (a truncation is
/// refused before anything is read), its SHA-256 against the recorded one, every entry
/// (<see cref="TarSafetyValidator"/>), then the entry count and tar size against the manifest. The hash and the tar
/// walk share one read of the file and run side by side (one core hashes, the other decompresses and walks); when
/// the hash is wrong, that is the reason given, whatever the walk found.
/// </summary>
public static class ArchiveVerifier
{
    private const int ReadChunk = 1 << 20;

    /// <summary>Refuses the file unless its SHA-256 (and size, when given) is the expected one.</summary>
    /// <exception cref="ArchiveIntegrityException">A different size, a different hash, or no such file.</exception>
    public static async Task VerifyHashAsync(string path, string expectedSha256, long? expectedBytes, CancellationToken ct)
    {
        await using var file = OpenArchive(path);
        CheckLength(file, path, expectedBytes);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[ReadChunk];
        int read;
        while ((read = await file.ReadAsync(buffer, ct)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
        }

        CheckHash(path, Convert.ToHexStringLower(sha256.GetCurrentHash()), expectedSha256);
    }

    /// <summary>
    /// The cheap check of one volume of a set before anything is stopped: the limits against the manifest's sizes, the
    /// file's size and its SHA-256, without decompressing it. The tar rules and counts are checked as the returned
    /// archive is uploaded (<see cref="ArchiveUpload"/>), on the very bytes that go to Docker.
    /// </summary>
    public static async Task<CheckedArchive> CheckAsync(
        string setDirectory, BackupManifest manifest, ManifestVolume volume, ArchiveLimits limits, CancellationToken ct)
    {
        var path = Path.Combine(setDirectory, volume.ArchiveFile);
        RefuseBeyondLimits(volume, limits);
        await VerifyHashAsync(path, volume.Sha256, volume.CompressedBytes, ct);
        return new CheckedArchive(path, manifest, volume, limits);
    }

    /// <summary>Hash and every entry; returns what the tar holds. Nothing is written.</summary>
    public static async Task<TarSummary> ValidateAsync(
        string path, ArchiveCompression compression, string expectedSha256, TarSafetyOptions options, CancellationToken ct)
    {
        await using var file = OpenArchive(path);
        return await HashAndWalkAsync(file, path, compression, expectedSha256, options, ct);
    }

    /// <summary>
    /// Validates one volume of a set as its manifest records it (size, hash, root, entries) and returns the proof
    /// that opens its tar for upload (<see cref="CheckedArchive.OpenTar"/>). Nothing is written.
    /// </summary>
    public static Task<ValidatedArchive> ValidateAsync(string setDirectory, BackupManifest manifest, ManifestVolume volume, CancellationToken ct) =>
        ValidateAsync(setDirectory, manifest, volume, ArchiveLimits.Default, ct);

    /// <summary>
    /// As above, within <paramref name="limits"/>: a manifest that records a larger tar than they allow for the
    /// archive's compressed size is refused before anything is read, and decompression stops at the limit.
    /// </summary>
    public static async Task<ValidatedArchive> ValidateAsync(
        string setDirectory, BackupManifest manifest, ManifestVolume volume, ArchiveLimits limits, CancellationToken ct)
    {
        var path = Path.Combine(setDirectory, volume.ArchiveFile);
        RefuseBeyondLimits(volume, limits);

        TarSummary summary;
        await using (var file = OpenArchive(path))
        {
            CheckLength(file, path, volume.CompressedBytes);
            summary = await HashAndWalkAsync(file, path, manifest.Compression, volume.Sha256, TarSafetyOptions.ForManifestVolume(volume, limits), ct);
        }

        CheckCounts(path, volume, summary);
        return new ValidatedArchive(path, manifest, volume, limits, summary);
    }

    /// <summary>Refuses a manifest that records a larger tar than <paramref name="limits"/> allow for its compressed size.</summary>
    internal static void RefuseBeyondLimits(ManifestVolume volume, ArchiveLimits limits)
    {
        if (limits.Problem(volume.TarBytes, volume.CompressedBytes) is { } tooLarge)
        {
            throw new UnsafeArchiveException(TarRule.TooLarge, null, $"the archive of {volume.Name} is refused before it is decompressed: {tooLarge}");
        }
    }

    /// <summary>Refuses a tar whose entry count or size is not what the manifest records.</summary>
    internal static void CheckCounts(string path, ManifestVolume volume, TarSummary summary)
    {
        if (summary.EntryCount != volume.EntryCount || summary.TarBytes != volume.TarBytes)
        {
            throw new ArchiveIntegrityException(path,
                $"it holds {summary.EntryCount} entries in {summary.TarBytes} tar bytes, but the manifest records " +
                $"{volume.EntryCount} entries in {volume.TarBytes} bytes.");
        }
    }

    /// <summary>
    /// One read of the file feeds both the SHA-256 (on the reading task) and, through a pipe, the decompressor and
    /// the tar walk (on this one). A wrong hash is reported as such even when the walk failed first on the same
    /// damage; the walk's refusal is reported when the hash is right (an intact archive with an unsafe entry).
    /// </summary>
    private static async Task<TarSummary> HashAndWalkAsync(
        FileStream file, string path, ArchiveCompression compression, string expectedSha256, TarSafetyOptions options, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 8 * ReadChunk, resumeWriterThreshold: 4 * ReadChunk,
            minimumSegmentSize: ReadChunk / 4, useSynchronizationContext: false));
        var hashing = Task.Run(() => HashIntoPipeAsync(file, pipe.Writer, stop.Token), CancellationToken.None);

        TarSummary? summary = null;
        ExceptionDispatchInfo? walkFailure = null;
        try
        {
            await using var source = pipe.Reader.AsStream(leaveOpen: true);
            await using var tar = compression.OpenDecompressor(source);
            summary = await TarSafetyValidator.ValidateAsync(tar, options, ct);
        }
        catch (UnsafeArchiveException e)
        {
            // The hash decides whether this is damage (reported as such) or an intact archive with a bad entry.
            walkFailure = ExceptionDispatchInfo.Capture(e);
        }
        catch
        {
            // Cancelled, or the file could not be read: stop the hashing task and report what stopped the walk.
            await stop.CancelAsync();
            await pipe.Reader.CompleteAsync();
            try
            {
                await hashing;
            }
            catch (Exception)
            {
                // Already reported by the walk (a read error reaches it through the pipe).
            }

            throw;
        }

        // The walk is done: the hashing task reads the rest of the file (the end-of-archive padding) without the pipe.
        await pipe.Reader.CompleteAsync();
        var actual = await hashing;
        CheckHash(path, actual, expectedSha256, walkFailure?.SourceException);
        walkFailure?.Throw();
        return summary!;
    }

    /// <summary>Reads the whole file, hashing every chunk, and hands the chunks on until the reader completes the pipe.</summary>
    private static async Task<string> HashIntoPipeAsync(FileStream file, PipeWriter pipe, CancellationToken ct)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var forwarding = true;
        try
        {
            while (true)
            {
                var buffer = forwarding ? pipe.GetMemory(ReadChunk) : new byte[ReadChunk];
                var read = await file.ReadAsync(buffer, ct);
                if (read == 0)
                {
                    break;
                }

                sha256.AppendData(buffer.Span[..read]);
                if (forwarding)
                {
                    pipe.Advance(read);
                    forwarding = !(await pipe.FlushAsync(ct)).IsCompleted;
                }
            }

            await pipe.CompleteAsync();
        }
        catch (Exception e)
        {
            await pipe.CompleteAsync(e);
            throw;
        }

        return Convert.ToHexStringLower(sha256.GetCurrentHash());
    }

    private static void CheckLength(FileStream file, string path, long? expectedBytes)
    {
        if (expectedBytes is { } expected && file.Length != expected)
        {
            throw new ArchiveIntegrityException(path, file.Length < expected
                ? $"it is {file.Length} bytes but {expected} were recorded: the file is truncated."
                : $"it is {file.Length} bytes but {expected} were recorded: data was added to it.");
        }
    }

    private static void CheckHash(string path, string actual, string expectedSha256, Exception? walkFailure = null)
    {
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArchiveIntegrityException(path,
                $"its SHA-256 is {actual} but {expectedSha256} was recorded: the file is corrupt or truncated.", walkFailure);
        }
    }

    internal static FileStream OpenArchive(string path)
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
}
