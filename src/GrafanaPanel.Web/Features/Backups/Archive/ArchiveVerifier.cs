using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// One volume's archive that passed <see cref="ArchiveVerifier.ValidateAsync(string, BackupManifest, ManifestVolume, ArchiveLimits, CancellationToken)"/>:
/// its size and SHA-256 are the recorded ones and every tar entry is safe. Only this proof opens the tar for upload.
/// </summary>
public sealed class ValidatedArchive
{
    internal ValidatedArchive(string path, BackupManifest manifest, ManifestVolume volume, TarSummary summary)
    {
        Path = path;
        Manifest = manifest;
        Volume = volume;
        Summary = summary;
    }

    public string Path { get; }

    public BackupManifest Manifest { get; }

    public ManifestVolume Volume { get; }

    public TarSummary Summary { get; }

    /// <summary>
    /// The archive's decompressed tar, ready to upload with Docker's <c>PUT /containers/{id}/archive</c>. The file is
    /// hashed again as it is read: if it changed since it was validated, the read that reaches its end throws
    /// <see cref="ArchiveIntegrityException"/> (the restore then rolls back). <paramref name="onBytes"/> gets the
    /// tar bytes read so far, every few megabytes and at the end. Dispose it after the upload.
    /// </summary>
    public Stream OpenTar(Action<long>? onBytes = null)
    {
        var file = ArchiveVerifier.OpenArchive(Path);
        if (file.Length != Volume.CompressedBytes)
        {
            file.Dispose();
            throw new ArchiveIntegrityException(Path, "the file changed after it was validated; nothing was uploaded from it.");
        }

        var hashing = new HashingStream(file, leaveOpen: false, onEnd: reread =>
        {
            if (reread.Sha256Hex() != Volume.Sha256)
            {
                throw new ArchiveIntegrityException(Path, "the file changed after it was validated; do not trust what was uploaded from it.");
            }
        });
        return new UploadStream(Manifest.Compression.OpenDecompressor(hashing), hashing, onBytes);
    }

    /// <summary>A decompressor (opened with leaveOpen) that disposes its source with itself and counts what it gave.</summary>
    private sealed class UploadStream(Stream inner, Stream source, Action<long>? onBytes) : Stream
    {
        private const long ReportEvery = 4 << 20;
        private long _bytes;
        private long _reported;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        private int Count(int read)
        {
            _bytes += read;
            if (onBytes is not null && (_bytes - _reported >= ReportEvery || (read == 0 && _bytes != _reported)))
            {
                _reported = _bytes;
                onBytes(_bytes);
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                source.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await source.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}

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

    /// <summary>Hash and every entry; returns what the tar holds. Nothing is written.</summary>
    public static async Task<TarSummary> ValidateAsync(
        string path, ArchiveCompression compression, string expectedSha256, TarSafetyOptions options, CancellationToken ct)
    {
        await using var file = OpenArchive(path);
        return await HashAndWalkAsync(file, path, compression, expectedSha256, options, ct);
    }

    /// <summary>
    /// Validates one volume of a set as its manifest records it (size, hash, root, entries) and returns the proof
    /// that opens its tar for upload (<see cref="ValidatedArchive.OpenTar"/>). Nothing is written.
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
        if (limits.Problem(volume.TarBytes, volume.CompressedBytes) is { } tooLarge)
        {
            throw new UnsafeArchiveException(TarRule.TooLarge, null, $"the archive of {volume.Name} is refused before it is decompressed: {tooLarge}");
        }

        TarSummary summary;
        await using (var file = OpenArchive(path))
        {
            CheckLength(file, path, volume.CompressedBytes);
            summary = await HashAndWalkAsync(file, path, manifest.Compression, volume.Sha256, TarSafetyOptions.ForManifestVolume(volume, limits), ct);
        }

        if (summary.EntryCount != volume.EntryCount || summary.TarBytes != volume.TarBytes)
        {
            throw new ArchiveIntegrityException(path,
                $"it holds {summary.EntryCount} entries in {summary.TarBytes} tar bytes, but the manifest records " +
                $"{volume.EntryCount} entries in {volume.TarBytes} bytes.");
        }

        return new ValidatedArchive(path, manifest, volume, summary);
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
