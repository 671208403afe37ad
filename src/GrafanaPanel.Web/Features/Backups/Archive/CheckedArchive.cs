namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// One volume's archive whose size and SHA-256 are the recorded ones
/// (<see cref="ArchiveVerifier.CheckAsync"/>): the cheap check a restore makes before anything is stopped. Only this
/// proof opens the tar for upload; <see cref="ArchiveUpload"/> checks every tar entry and the counts on the bytes it
/// uploads and returns the <see cref="ValidatedArchive"/>.
/// </summary>
public class CheckedArchive
{
    internal CheckedArchive(string path, BackupManifest manifest, ManifestVolume volume, ArchiveLimits limits)
    {
        Path = path;
        Manifest = manifest;
        Volume = volume;
        Limits = limits;
    }

    public string Path { get; }

    public BackupManifest Manifest { get; }

    public ManifestVolume Volume { get; }

    /// <summary>The limits the tar is read within (a compression bomb stops there).</summary>
    public ArchiveLimits Limits { get; }

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
    private sealed class UploadStream(Stream inner, Stream source, Action<long>? onBytes) : ReadOnlyStream
    {
        private const long ReportEvery = 4 << 20;
        private long _bytes;
        private long _reported;

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

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
/// One volume's archive whose size and SHA-256 are the recorded ones and whose every tar entry is safe, with the counts
/// the manifest records: from <see cref="ArchiveVerifier.ValidateAsync(string, BackupManifest, ManifestVolume, ArchiveLimits, CancellationToken)"/>
/// (nothing written) or from <see cref="ArchiveUpload"/> (checked on the bytes that were uploaded).
/// </summary>
public sealed class ValidatedArchive : CheckedArchive
{
    internal ValidatedArchive(string path, BackupManifest manifest, ManifestVolume volume, ArchiveLimits limits, TarSummary summary)
        : base(path, manifest, volume, limits)
    {
        Summary = summary;
    }

    public TarSummary Summary { get; }
}
