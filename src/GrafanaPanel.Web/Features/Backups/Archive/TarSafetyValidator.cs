using System.Formats.Tar;
using ZstdSharp;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>What a tar must satisfy to be restored. The defaults are Linux's own limits.</summary>
public sealed record TarSafetyOptions
{
    /// <summary>The root folder every entry must be under (the manifest's <c>rootName</c>); null accepts whatever
    /// the first entry names. A different root means the archive is another volume's.</summary>
    public string? ExpectedRoot { get; init; }

    /// <summary>Reading stops with <see cref="TarRule.TooLarge"/> past this many uncompressed bytes: the guard
    /// against a compression bomb. For a set with a manifest, its recorded tar size is exact.</summary>
    public required long MaxTarBytes { get; init; }

    /// <summary>Whether an archive holding only the root folder (an empty volume) is acceptable.</summary>
    public bool AllowEmptyVolume { get; init; }

    /// <summary>PATH_MAX: a longer path cannot be created on Linux.</summary>
    public int MaxPathBytes { get; init; } = 4096;

    /// <summary>NAME_MAX: a longer file name (one path segment) cannot be created on Linux.</summary>
    public int MaxNameBytes { get; init; } = 255;

    /// <summary>Each name is remembered (duplicates, link targets); this bounds that memory.</summary>
    public int MaxEntries { get; init; } = 2_000_000;

    /// <summary>Metadata one entry may carry ahead of its data (PAX records, GNU long names), so that a huge
    /// header is refused before the tar reader buffers it.</summary>
    public int MaxHeaderBytes { get; init; } = 1 << 20;

    /// <summary>Where <see cref="MaxTarBytes"/> comes from, named in the refusal when the tar grows past it.</summary>
    public string? MaxTarBytesReason { get; init; }

    /// <summary>The options for restoring <paramref name="volume"/>: its root, at most its recorded size (the file's
    /// hash was checked first, so any other size is a mismatch) and never more than <paramref name="limits"/> allow
    /// for its compressed size, and empty only if it was empty.</summary>
    public static TarSafetyOptions ForManifestVolume(ManifestVolume volume, ArchiveLimits? limits = null)
    {
        limits ??= ArchiveLimits.Default;
        var cap = limits.CapFor(volume.CompressedBytes);
        return new()
        {
            ExpectedRoot = volume.RootName,
            MaxTarBytes = Math.Min(volume.TarBytes, cap),
            MaxTarBytesReason = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the manifest records {volume.TarBytes:N0} tar bytes, and {limits.Explain(volume.CompressedBytes)}"),
            AllowEmptyVolume = volume.EntryCount == 1,
        };
    }
}

/// <summary>What a validated tar holds.</summary>
/// <param name="RootName">The top-level folder of every entry.</param>
/// <param name="EntryCount">Entries, the root folder included.</param>
/// <param name="TarBytes">The uncompressed tar's size, end-of-archive marker included.</param>
/// <param name="FileBytes">The regular files' content.</param>
public sealed record TarSummary(string RootName, int EntryCount, long TarBytes, long FileBytes);

/// <summary>
/// Walks every entry of an uncompressed tar with <see cref="TarReader"/> and refuses, with an
/// <see cref="UnsafeArchiveException"/> naming the entry and the rule, anything that could write outside the
/// volume or is not plain data: absolute paths, <c>..</c>, backslashes, links leaving the root, entries through
/// links, hard links to anything but an earlier entry, devices, FIFOs, setuid/setgid files, duplicates, names
/// over Linux's limits, more bytes than allowed, truncation, corruption, data after the end-of-archive marker,
/// and an empty archive. Nothing is written anywhere: restore uploads the tar only after this pass succeeded.
/// </summary>
public static class TarSafetyValidator
{
    private const int ChunkSize = 256 * 1024;
    private const int BlockSize = 512;
    private const string NoEntries = "the archive has no entries, not even the volume's root folder that Docker always writes.";
    private const string NoEndMarker = "the tar has no end-of-archive marker (two zero blocks): it was cut off after this entry.";

    public static async Task<TarSummary> ValidateAsync(Stream tar, TarSafetyOptions options, CancellationToken ct)
    {
        var rules = new TarEntryRules(options);
        string? current = null;
        var flow = new TarFlowStream(tar, ChunkSize)
        {
            SourceLimit = options.MaxTarBytes,
            SourceLimitExceeded = () => new UnsafeArchiveException(TarRule.TooLarge, current,
                $"the tar is larger than the {options.MaxTarBytes:N0} bytes allowed" +
                (options.MaxTarBytesReason is { } reason ? $" ({reason})" : "") +
                "; decompressing stopped there (a compression bomb, or not the archive that was recorded)."),
        };

        // Where the last entry's data ends; everything after it must be zeros: the end-of-archive marker.
        var dataEnd = 0L;
        try
        {
            await using var reader = new TarReader(flow, leaveOpen: true);
            while (true)
            {
                flow.ConsumeLimit = dataEnd + options.MaxHeaderBytes;
                flow.ConsumeLimitExceeded = () => new UnsafeArchiveException(TarRule.HeaderTooLarge, current,
                    $"the next entry's header (PAX records or long names) is larger than {options.MaxHeaderBytes} bytes.");
                flow.CaptureFrom(dataEnd);
                var entry = await reader.GetNextEntryAsync(copyData: false, ct);
                if (entry is null)
                {
                    break;
                }

                TarHeaderBlocks.Verify(flow.Captured, entry.Name);
                current = entry.Name;
                rules.Check(entry);
                // The reader leaves an unseekable stream right after the header; the data is skipped when the next
                // entry is read. Only regular files may carry data, but the reader skips whatever size a header says.
                dataEnd = flow.Consumed + RoundUpToBlock(entry.Length);
            }

            await flow.DrainAsync(ct);
        }
        catch (EndOfStreamException e) when (flow.SourceEnded && flow.SourceBytes == dataEnd)
        {
            // The reader looked for another header and found the end of the stream (an unseekable stream ends
            // the reader with this exception rather than with null).
            throw current is null
                ? new UnsafeArchiveException(TarRule.Empty, null, NoEntries, e)
                : new UnsafeArchiveException(TarRule.Truncated, current, NoEndMarker, e);
        }
        catch (EndOfStreamException e)
        {
            throw new UnsafeArchiveException(TarRule.Truncated, current, Where(current) + "the archive ends in the middle of a header or of data: it was cut off.", e);
        }
        catch (NotSupportedException e)
        {
            // TarReader's answer to entry types it cannot read at all (GNU sparse files).
            throw new UnsafeArchiveException(TarRule.UnsupportedType, current, Where(current) + $"an entry cannot be read ({e.Message})", e);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or FormatException or ZstdException
                                      or ArgumentException or OverflowException)
        {
            // What TarReader and the decompressors throw for bytes that are not a valid tar or compressed stream.
            throw new UnsafeArchiveException(TarRule.Corrupt, current, Where(current) + $"the archive is corrupt ({e.Message})", e);
        }

        if (flow.LastNonZeroOffset >= dataEnd)
        {
            throw new UnsafeArchiveException(TarRule.TrailingData, null,
                $"there is data at offset {flow.LastNonZeroOffset} after the last entry's end ({dataEnd}); " +
                "an archive written by the portal ends with zero blocks only.");
        }

        if (rules.RootName is null)
        {
            throw new UnsafeArchiveException(TarRule.Empty, null, NoEntries);
        }

        if (flow.Consumed - dataEnd < 2 * BlockSize)
        {
            throw new UnsafeArchiveException(TarRule.Truncated, current, NoEndMarker);
        }

        if (rules.EntryCount == 1 && !options.AllowEmptyVolume)
        {
            throw new UnsafeArchiveException(TarRule.Empty, current,
                "the archive holds only the root folder: restoring it would empty the volume.");
        }

        rules.Complete();
        return new TarSummary(rules.RootName, rules.EntryCount, flow.Consumed, rules.FileBytes);
    }

    private static long RoundUpToBlock(long length) => (length + BlockSize - 1) / BlockSize * BlockSize;

    private static string Where(string? entry) => entry is null ? "at its start, " : "within or after this entry, ";
}
