using System.Globalization;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// How large one volume's uncompressed tar may be: never more than <see cref="MaxTarBytes"/>, and never more than
/// <see cref="MaxCompressionRatio"/> times its compressed size once it is past <see cref="RatioFreeBytes"/> (a small
/// archive of zeros compresses far better than 1000×, and is harmless). A manifest that records more is refused before
/// anything is decompressed; a tar that grows past it while it is decompressed is refused at that moment.
/// </summary>
public sealed record ArchiveLimits(long MaxTarBytes, int MaxCompressionRatio)
{
    public const long DefaultMaxTarBytes = 200L * 1024 * 1024 * 1024;
    public const int DefaultMaxCompressionRatio = 1000;

    /// <summary>Below this many tar bytes the ratio is not applied.</summary>
    public long RatioFreeBytes { get; init; } = 1L << 30;

    public static ArchiveLimits Default { get; } = new(DefaultMaxTarBytes, DefaultMaxCompressionRatio);

    /// <summary>The most tar bytes an archive of <paramref name="compressedBytes"/> may hold.</summary>
    public long CapFor(long compressedBytes)
    {
        var byRatio = compressedBytes > long.MaxValue / MaxCompressionRatio ? long.MaxValue : compressedBytes * MaxCompressionRatio;
        return Math.Min(MaxTarBytes, Math.Max(byRatio, RatioFreeBytes));
    }

    /// <summary>What the cap of an archive of <paramref name="compressedBytes"/> is made of, for a message.</summary>
    public string Explain(long compressedBytes)
    {
        var byRatio = compressedBytes > long.MaxValue / MaxCompressionRatio ? long.MaxValue : compressedBytes * MaxCompressionRatio;
        return string.Create(CultureInfo.InvariantCulture,
            $"the cap is {CapFor(compressedBytes):N0} bytes: the smaller of Backups__MaxTarBytes ({MaxTarBytes:N0}) and " +
            $"Backups__MaxCompressionRatio ({MaxCompressionRatio}) × the {compressedBytes:N0} compressed bytes ({byRatio:N0}, " +
            $"never below {RatioFreeBytes:N0})");
    }

    /// <summary>Why a volume recorded with these sizes is refused, or null when it is within the limits.</summary>
    public string? Problem(long tarBytes, long compressedBytes) =>
        tarBytes > CapFor(compressedBytes)
            ? string.Create(CultureInfo.InvariantCulture,
                $"its tar is {tarBytes:N0} bytes (recorded), compressed into {compressedBytes:N0}, but {Explain(compressedBytes)}.")
            : null;
}
