using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

/// <summary>The absolute and the relative cap on an archive's tar: a compression bomb is refused with the numbers.</summary>
public sealed class ArchiveLimitsTests
{
    private const long MiB = 1 << 20;

    // 48 MiB of zeros: zstd makes a few KiB of it, a ratio far beyond 1000.
    private static byte[] BombTar() => new TarBuilder().File("data/zeros", new byte[48 * MiB]).File("data/after").Build();

    [Fact]
    public async Task A_manifest_that_records_a_tar_beyond_the_ratio_is_refused_before_anything_is_decompressed()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, BombTar());
        Assert.True(volume.CompressedBytes * 1000 < volume.TarBytes, $"{volume.CompressedBytes} compressed bytes for {volume.TarBytes}");
        // Damage that a read would report as a hash mismatch: the refusal must come first, from the numbers alone.
        var path = folder.Combine(volume.ArchiveFile);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);
        var limits = new ArchiveLimits(ArchiveLimits.DefaultMaxTarBytes, 1000) { RatioFreeBytes = MiB };

        var refusal = await Assert.ThrowsAsync<UnsafeArchiveException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, limits, CancellationToken.None));

        Assert.Equal(TarRule.TooLarge, refusal.Rule);
        Assert.Contains($"{volume.TarBytes:N0} bytes (recorded)", refusal.Message);
        Assert.Contains($"compressed into {volume.CompressedBytes:N0}", refusal.Message);
        Assert.Contains($"the cap is {volume.CompressedBytes * 1000:N0} bytes", refusal.Message);
        Assert.Contains("Backups__MaxCompressionRatio (1000)", refusal.Message);
    }

    [Fact]
    public async Task The_absolute_cap_refuses_an_incompressible_archive_larger_than_it()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, new TarBuilder().File("data/noise", RandomNumberGenerator.GetBytes(3 * (int)MiB)).Build());
        var limits = new ArchiveLimits(2 * MiB, 1000);

        var refusal = await Assert.ThrowsAsync<UnsafeArchiveException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, limits, CancellationToken.None));

        Assert.Equal(TarRule.TooLarge, refusal.Rule);
        Assert.Contains("Backups__MaxTarBytes (2,097,152)", refusal.Message);
        Assert.Contains("the cap is 2,097,152 bytes", refusal.Message);
    }

    [Fact]
    public async Task A_bomb_whose_manifest_understates_its_tar_stops_decompressing_at_the_recorded_size_naming_the_numbers()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, BombTar());
        var lying = volume with { TarBytes = MiB };
        var limits = new ArchiveLimits(ArchiveLimits.DefaultMaxTarBytes, 1000) { RatioFreeBytes = MiB };

        var refusal = await Assert.ThrowsAsync<UnsafeArchiveException>(() =>
            ArchiveVerifier.ValidateAsync(folder.Path, manifest with { Volumes = [lying] }, lying, limits, CancellationToken.None));

        Assert.Equal(TarRule.TooLarge, refusal.Rule);
        Assert.Equal("data/zeros", refusal.EntryName);
        Assert.Contains("larger than the 1,048,576 bytes allowed", refusal.Message);
        Assert.Contains("the manifest records 1,048,576 tar bytes", refusal.Message);
        Assert.Contains($"compressed bytes", refusal.Message);
    }

    [Fact]
    public async Task An_ordinary_archive_passes_the_default_limits()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, BombTar());

        // 48 MiB is below the 1 GiB under which the ratio is not applied.
        var validated = await ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, ArchiveLimits.Default, CancellationToken.None);

        Assert.Equal(volume.TarBytes, validated.Summary.TarBytes);
    }

    [Theory]
    [InlineData(1_000L, 1L << 30)]
    [InlineData(10L << 20, 10_000L << 20)]
    [InlineData(1L << 40, ArchiveLimits.DefaultMaxTarBytes)]
    [InlineData(long.MaxValue, ArchiveLimits.DefaultMaxTarBytes)]
    public void The_cap_is_the_smaller_of_the_absolute_cap_and_the_ratio_never_below_the_free_allowance(long compressed, long cap) =>
        Assert.Equal(cap, ArchiveLimits.Default.CapFor(compressed));

    [Fact]
    public void The_options_are_checked_at_start_and_the_defaults_pass()
    {
        Assert.Empty(Problems(new BackupOptions()));
        Assert.Equal(BackupOptions.DefaultHelperImage, new BackupOptions().HelperImage);
        Assert.Contains(Problems(new BackupOptions { MaxTarBytes = 0 }), p => p.Contains("Backups__MaxTarBytes", StringComparison.Ordinal));
        Assert.Contains(Problems(new BackupOptions { MaxCompressionRatio = 0 }), p => p.Contains("Backups__MaxCompressionRatio", StringComparison.Ordinal));
        Assert.Contains(Problems(new BackupOptions { ImportValidationTimeout = TimeSpan.Zero }), p => p.Contains("Backups__ImportValidationTimeout", StringComparison.Ordinal));
        Assert.Contains(Problems(new BackupOptions { HelperImage = "" }), p => p.Contains("Backups__HelperImage", StringComparison.Ordinal));
    }

    private static List<string> Problems(BackupOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage ?? "")];
    }
}
