using System.IO.Compression;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>How a volume's tar is compressed on disk. Both produce files the standard tools read
/// (<c>zstd -d &lt; X | tar t</c>, <c>gzip -d &lt; X | tar t</c>).</summary>
public enum ArchiveCompression
{
    /// <summary>The default: close to <c>gzip -6</c>'s size at about a tenth of its CPU time.</summary>
    Zstd = 0,

    /// <summary>For machines without zstd.</summary>
    Gzip = 1,
}

/// <summary>Compressing and decompressing stream wrappers for <see cref="ArchiveCompression"/>.</summary>
public static class ArchiveCompressionStreams
{
    /// <summary>
    /// zstd level 1. Measured on the 880 MB mixed volume of docs/benchmarks.md on a 2-core machine: level 1 costs ~1.5 s of
    /// CPU (ZstdSharp), level 3 ~3.5 s and level 5 ~6.4 s, while the daemon needs a core of its own for ~2.5 s to
    /// stream the raw tar; only level 1 keeps the backup within 1.5x of the raw stream. Levels 2-4 were not smaller
    /// than level 1 on log text, and only level 5 and up beat gzip -6 there; level 1 came out 0.4% larger than
    /// gzip -6 on the whole volume (485.4 MB against 483.4 MB).
    /// </summary>
    public const int DefaultZstdLevel = 1;

    /// <summary>
    /// Compression runs on zstd's worker threads, so the calling thread keeps reading from the daemon, hashing and
    /// writing while a block is compressed. Two workers let compression use both cores while the daemon waits on
    /// the disk; more would only queue on a 2-core machine.
    /// </summary>
    public static int DefaultZstdWorkers => Math.Clamp(Environment.ProcessorCount, 1, 2);

    /// <summary>The archive file's extension, with its leading dot.</summary>
    public static string FileExtension(this ArchiveCompression compression) => compression switch
    {
        ArchiveCompression.Zstd => ".tar.zst",
        ArchiveCompression.Gzip => ".tar.gz",
        _ => throw Unknown(compression),
    };

    /// <summary>The archive file name for a volume, e.g. <c>lab_grafana-data.tar.zst</c>.</summary>
    public static string ArchiveFileName(string volumeName, ArchiveCompression compression) =>
        volumeName + compression.FileExtension();

    /// <summary>The compression of a file named by <see cref="ArchiveFileName"/>, or null for any other name.</summary>
    public static ArchiveCompression? FromFileName(string fileName) =>
        fileName.EndsWith(ArchiveCompression.Zstd.FileExtension(), StringComparison.Ordinal) ? ArchiveCompression.Zstd
        : fileName.EndsWith(ArchiveCompression.Gzip.FileExtension(), StringComparison.Ordinal) ? ArchiveCompression.Gzip
        : null;

    /// <summary>
    /// A stream that compresses what is written to it into <paramref name="destination"/>; disposing it writes the
    /// end of the compressed stream (and leaves <paramref name="destination"/> open).
    /// </summary>
    public static Stream OpenCompressor(this ArchiveCompression compression, Stream destination, int? zstdLevel = null)
    {
        switch (compression)
        {
            case ArchiveCompression.Zstd:
                var zstd = new CompressionStream(destination, zstdLevel ?? DefaultZstdLevel, leaveOpen: true);
                // A content checksum lets `zstd -t` and our own decompression detect a corrupt archive even where
                // no SHA-256 is at hand (an imported set whose manifest is itself damaged).
                zstd.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
                zstd.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, DefaultZstdWorkers);
                return zstd;
            case ArchiveCompression.Gzip:
                // Optimal is zlib level 6, the same as `gzip -6`: people choose gzip for compatibility, not speed.
                return new GZipStream(destination, CompressionLevel.Optimal, leaveOpen: true);
            default:
                throw Unknown(compression);
        }
    }

    /// <summary>
    /// A stream that reads decompressed bytes from <paramref name="source"/>. A truncated or corrupt input throws
    /// (<see cref="InvalidDataException"/>, <see cref="EndOfStreamException"/> or <see cref="ZstdException"/>)
    /// rather than ending early. Disposing it leaves <paramref name="source"/> open.
    /// </summary>
    public static Stream OpenDecompressor(this ArchiveCompression compression, Stream source) => compression switch
    {
        // checkEndOfStream: a frame cut short is an error, not a quiet end of data. The decoder's default window
        // limit (2^27 bytes) bounds the memory a hostile frame header can ask for.
        ArchiveCompression.Zstd => new DecompressionStream(source, checkEndOfStream: true, leaveOpen: true),
        ArchiveCompression.Gzip => new GZipStream(source, CompressionMode.Decompress, leaveOpen: true),
        _ => throw Unknown(compression),
    };

    private static ArgumentOutOfRangeException Unknown(ArchiveCompression compression) =>
        new(nameof(compression), compression, "Unknown archive compression.");
}
