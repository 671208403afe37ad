using System.Diagnostics;
using System.Formats.Tar;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>How far a write has come, for a progress bar.</summary>
/// <param name="TarBytes">Uncompressed tar bytes read from the source so far.</param>
/// <param name="CompressedBytes">Bytes written to the archive file so far.</param>
/// <param name="Entries">Tar entries seen so far.</param>
public sealed record ArchiveProgress(long TarBytes, long CompressedBytes, int Entries);

public sealed record ArchiveWriteOptions
{
    public ArchiveCompression Compression { get; init; } = ArchiveCompression.Zstd;

    /// <summary>Null for <see cref="ArchiveCompressionStreams.DefaultZstdLevel"/>; other levels are for benchmarks.</summary>
    public int? ZstdLevel { get; init; }

    /// <summary>Told the byte counts about once per MiB of tar, and once at the end.</summary>
    public IProgress<ArchiveProgress>? Progress { get; init; }
}

/// <summary>What was written: everything a manifest records about one volume's archive.</summary>
/// <param name="Path">Full path of the archive file.</param>
/// <param name="RootName">The tar's top-level folder (Docker names it after the archived folder, e.g. <c>data</c>).</param>
/// <param name="TarBytes">Size of the uncompressed tar stream, end-of-archive marker included.</param>
/// <param name="CompressedBytes">Size of the file.</param>
/// <param name="EntryCount">Tar entries, the root folder included.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file.</param>
/// <param name="RestoreProblem">Null when every entry passes the restore rules of <see cref="TarSafetyValidator"/>;
/// otherwise why a restore of this archive would be refused (e.g. the volume holds a FIFO), so the backup job can
/// say so now instead of at restore time.</param>
public sealed record ArchiveWriteResult(
    string Path,
    ArchiveCompression Compression,
    string RootName,
    long TarBytes,
    long CompressedBytes,
    int EntryCount,
    string Sha256,
    TimeSpan Elapsed,
    string? RestoreProblem);

/// <summary>
/// Streams a volume's tar (as Docker's <c>GET /containers/{id}/archive</c> returns it) into a compressed archive
/// file in one pass: compressed while streaming, SHA-256 of the written bytes computed while writing, entries
/// counted by <see cref="TarReader"/> as the bytes flow past it, and the file written atomically
/// (<see cref="AtomicFile"/>). The file holds the source's bytes exactly; nothing is re-encoded.
/// </summary>
public static class ArchiveWriter
{
    // Large reads keep per-call overhead (and compressor hand-offs) low; 1 MiB is also the progress step.
    private const int ChunkSize = 1 << 20;

    public static Task<ArchiveWriteResult> WriteAsync(Stream tar, string path, ArchiveWriteOptions options, CancellationToken ct) =>
        AtomicFile.WriteAsync(path, (file, token) => WriteArchiveAsync(tar, file, Path.GetFullPath(path), options, token), ct);

    /// <summary>Start-up recovery: deletes <c>*.partial</c> files a killed backup left under <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> CleanupPartials(string directory) => AtomicFile.CleanupPartials(directory);

    private static async Task<ArchiveWriteResult> WriteArchiveAsync(
        Stream tar, Stream file, string path, ArchiveWriteOptions options, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        using var hashing = new HashingStream(file, leaveOpen: true);
        var compressor = options.Compression.OpenCompressor(hashing, options.ZstdLevel);
        var entries = 0;
        // The same entry rules a restore applies, so a backup that could never be restored is known at once.
        var rules = new TarEntryRules(new TarSafetyOptions { MaxTarBytes = long.MaxValue, AllowEmptyVolume = true });
        string? restoreProblem = null;
        var reported = 0L;
        string? rootName = null;
        var dataEnd = 0L;
        TarFlowStream? flow = null;
        flow = new TarFlowStream(tar, ChunkSize, chunk =>
        {
            compressor.Write(chunk);
            if (options.Progress is { } progress && flow!.SourceBytes - reported >= ChunkSize)
            {
                reported = flow.SourceBytes;
                progress.Report(new ArchiveProgress(flow.SourceBytes, hashing.Bytes, entries));
            }
        });

        try
        {
            await using (var reader = new TarReader(flow, leaveOpen: true))
            {
                while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
                {
                    rootName ??= entry.Name.Split('/')[0];
                    entries++;
                    dataEnd = flow.Consumed + (entry.Length + 511) / 512 * 512;
                    restoreProblem ??= RestoreProblem(() => rules.Check(entry));
                }
            }

            restoreProblem ??= RestoreProblem(rules.Complete);

            // The reader stops at the end-of-archive marker; the rest of the stream (the second zero block and any
            // padding) still belongs in the file, so that it is the daemon's tar byte for byte.
            await flow.DrainAsync(ct);
            compressor.Dispose(); // writes the end of the compressed stream
        }
        catch
        {
            DisposeQuietly(compressor);
            throw;
        }

        if (entries == 0 || string.IsNullOrEmpty(rootName))
        {
            // Docker's archive of a folder always has the folder itself as its first entry, even when it is empty.
            throw new InvalidDataException("The tar stream has no entries, not even the volume's root folder.");
        }

        if (flow.Consumed - dataEnd < 1024)
        {
            // A daemon that dies mid-stream can end the response cleanly between two blocks; without its two zero
            // blocks the tar is cut off, and a restore would refuse it.
            throw new InvalidDataException("The tar stream ended without its end-of-archive marker: it was cut off.");
        }

        options.Progress?.Report(new ArchiveProgress(flow.SourceBytes, hashing.Bytes, entries));
        return new ArchiveWriteResult(
            path, options.Compression, rootName, flow.SourceBytes, hashing.Bytes, entries, hashing.Sha256Hex(), stopwatch.Elapsed,
            restoreProblem);
    }

    private static string? RestoreProblem(Action check)
    {
        try
        {
            check();
            return null;
        }
        catch (UnsafeArchiveException e)
        {
            return e.Message;
        }
    }

    private static void DisposeQuietly(Stream compressor)
    {
        try
        {
            compressor.Dispose();
        }
        catch (Exception)
        {
            // Disposing also flushes into a file that is about to be deleted; the original failure is what matters.
        }
    }
}
