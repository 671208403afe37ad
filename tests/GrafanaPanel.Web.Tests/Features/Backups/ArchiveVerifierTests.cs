using System.Security.Cryptography;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class ArchiveVerifierTests
{
    [Fact]
    public async Task A_flipped_byte_is_refused_as_a_hash_mismatch_even_when_the_tar_is_unsafe_too()
    {
        using var folder = new TempFolder();
        // The archive's tar is also unsafe: the walk refuses /etc/cron.d/x, but damage is what the refusal must say.
        var (manifest, volume) = await WriteSetAsync(folder, new TarBuilder().File("data/ok").File("/etc/cron.d/x").Build());
        var path = folder.Combine(volume.ArchiveFile);
        await RewriteAsync(path, bytes =>
        {
            bytes[bytes.Length / 2] ^= 0x01;
            return bytes;
        });

        var refusal = await Assert.ThrowsAsync<ArchiveIntegrityException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None));

        Assert.Contains("SHA-256", refusal.Message);
        Assert.Equal(path, refusal.ArchivePath);
    }

    [Fact]
    public async Task A_truncated_file_is_refused_by_its_size_before_any_entry_is_read()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await WriteSetAsync(folder, new TarBuilder().File("/etc/cron.d/x").Build());
        var path = folder.Combine(volume.ArchiveFile);
        await RewriteAsync(path, bytes => bytes[..^10]);

        var refusal = await Assert.ThrowsAsync<ArchiveIntegrityException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None));

        Assert.Contains("truncated", refusal.Message);
    }

    [Fact]
    public async Task VerifyHash_refuses_a_truncated_file_without_a_recorded_size()
    {
        using var folder = new TempFolder();
        var (_, volume) = await WriteSetAsync(folder, ArchiveWriterTests.RichTar());
        var path = folder.Combine(volume.ArchiveFile);
        await RewriteAsync(path, bytes => bytes[..^1]);

        var refusal = await Assert.ThrowsAsync<ArchiveIntegrityException>(() => ArchiveVerifier.VerifyHashAsync(path, volume.Sha256, null, CancellationToken.None));

        Assert.Contains("SHA-256", refusal.Message);
    }

    [Fact]
    public async Task VerifyHash_accepts_the_file_as_written()
    {
        using var folder = new TempFolder();
        var (_, volume) = await WriteSetAsync(folder, ArchiveWriterTests.RichTar());

        await ArchiveVerifier.VerifyHashAsync(folder.Combine(volume.ArchiveFile), volume.Sha256.ToUpperInvariant(), volume.CompressedBytes, CancellationToken.None);
    }

    [Fact]
    public async Task A_missing_archive_is_an_integrity_failure()
    {
        using var folder = new TempFolder();

        var refusal = await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            ArchiveVerifier.VerifyHashAsync(folder.Combine("gone.tar.zst"), new string('0', 64), null, CancellationToken.None));

        Assert.Contains("does not exist", refusal.Message);
    }

    [Fact]
    public async Task An_intact_archive_with_an_unsafe_entry_is_refused_naming_the_entry()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await WriteSetAsync(folder, new TarBuilder().File("data/ok").Symlink("data/d", "/").File("data/d/etc/shadow").Build());

        var refusal = await Assert.ThrowsAsync<UnsafeArchiveException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None));

        Assert.Equal("data/d", refusal.EntryName);
    }

    [Fact]
    public async Task A_manifest_that_records_other_entries_than_the_archive_holds_is_refused()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await WriteSetAsync(folder, ArchiveWriterTests.RichTar());
        var wrong = volume with { EntryCount = volume.EntryCount + 1 };

        var refusal = await Assert.ThrowsAsync<ArchiveIntegrityException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, wrong, CancellationToken.None));

        Assert.Contains("manifest records", refusal.Message);
    }

    [Fact]
    public async Task The_validated_tar_is_the_backed_up_tar_byte_for_byte()
    {
        using var folder = new TempFolder();
        var tar = ArchiveWriterTests.RichTar();
        var (manifest, volume) = await WriteSetAsync(folder, tar);

        var validated = await ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None);
        using var copy = new MemoryStream();
        await using (var opened = validated.OpenTar())
        {
            await opened.CopyToAsync(copy);
        }

        Assert.Equal(tar, copy.ToArray());
        Assert.Equal(new TarSummary("data", volume.EntryCount, tar.Length, validated.Summary.FileBytes), validated.Summary);
    }

    [Fact]
    public async Task A_file_that_grew_after_validation_is_not_opened_for_upload()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await WriteSetAsync(folder, ArchiveWriterTests.RichTar());
        var validated = await ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None);
        await File.AppendAllTextAsync(folder.Combine(volume.ArchiveFile), "more");

        var refusal = Assert.Throws<ArchiveIntegrityException>(() => validated.OpenTar());

        Assert.Contains("changed after it was validated", refusal.Message);
    }

    // Archives larger than the pipe between the hashing and the walking side (8 MiB), so both back-pressure and the
    // walk stopping early while the hash reads on are exercised.
    [Theory]
    [InlineData(ArchiveCompression.Zstd)]
    [InlineData(ArchiveCompression.Gzip)]
    public async Task A_large_archive_validates_in_one_shared_read(ArchiveCompression compression)
    {
        using var folder = new TempFolder();
        var builder = new TarBuilder().Directory("data/blobs");
        for (var i = 0; i < 12; i++)
        {
            builder.File($"data/blobs/{i}", RandomNumberGenerator.GetBytes(2 << 20));
        }

        var tar = builder.Build();
        var (manifest, volume) = await WriteSetAsync(folder, tar, compression);

        var validated = await ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None);
        var reported = new List<long>();
        using var copy = new MemoryStream();
        await using (var opened = validated.OpenTar(reported.Add))
        {
            await opened.CopyToAsync(copy);
        }

        Assert.Equal(14, validated.Summary.EntryCount);
        Assert.Equal(tar.Length, validated.Summary.TarBytes);
        Assert.Equal(tar, copy.ToArray());
        // Upload progress: rising, every few megabytes, ending at the whole tar.
        Assert.True(reported.Count >= 5, string.Join(", ", reported));
        Assert.Equal(reported.Order(), reported);
        Assert.Equal(tar.Length, reported[^1]);
    }

    [Fact]
    public async Task A_large_intact_archive_with_an_unsafe_entry_near_its_start_names_the_entry()
    {
        using var folder = new TempFolder();
        var builder = new TarBuilder().File("data/ok").Symlink("data/up", "../../etc");
        for (var i = 0; i < 10; i++)
        {
            builder.File($"data/{i}", RandomNumberGenerator.GetBytes(2 << 20));
        }

        var (manifest, volume) = await WriteSetAsync(folder, builder.Build());

        var refusal = await Assert.ThrowsAsync<UnsafeArchiveException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None));

        Assert.Equal("data/up", refusal.EntryName);
    }

    [Fact]
    public async Task Damage_at_the_end_of_a_large_archive_is_reported_as_a_hash_mismatch()
    {
        using var folder = new TempFolder();
        var builder = new TarBuilder();
        for (var i = 0; i < 10; i++)
        {
            builder.File($"data/{i}", RandomNumberGenerator.GetBytes(2 << 20));
        }

        var (manifest, volume) = await WriteSetAsync(folder, builder.Build());
        await RewriteAsync(folder.Combine(volume.ArchiveFile), bytes =>
        {
            bytes[^100] ^= 0x40;
            return bytes;
        });

        var refusal = await Assert.ThrowsAsync<ArchiveIntegrityException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None));

        Assert.Contains("SHA-256", refusal.Message);
    }

    [Fact]
    public async Task Validation_stops_when_cancelled()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await WriteSetAsync(folder, ArchiveWriterTests.RichTar());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, cancelled.Token));
    }

    [Fact]
    public async Task A_file_changed_after_validation_fails_the_upload_read_at_its_end()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await WriteSetAsync(folder, ArchiveWriterTests.RichTar(), ArchiveCompression.Gzip);
        var path = folder.Combine(volume.ArchiveFile);

        var validated = await ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None);
        // Another process rewrites the last bytes in place (the gzip trailer) between validation and upload.
        await using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            writer.Position = writer.Length - 4;
            writer.Write([0, 0, 0, 0]);
        }

        await using var tar = validated.OpenTar();
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => tar.CopyToAsync(Stream.Null));

        Assert.True(failure is ArchiveIntegrityException or InvalidDataException, failure.ToString());
    }

    [Fact]
    public async Task An_empty_volume_s_archive_validates_when_the_manifest_says_it_was_empty()
    {
        using var folder = new TempFolder();
        var tar = await File.ReadAllBytesAsync(TarSafetyValidatorTests.DockerTar("prometheus-data-empty.tar"));
        var (manifest, volume) = await WriteSetAsync(folder, tar);

        var validated = await ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None);

        Assert.Equal(1, validated.Summary.EntryCount);
    }

    private static async Task RewriteAsync(string path, Func<byte[], byte[]> change) =>
        await File.WriteAllBytesAsync(path, change(await File.ReadAllBytesAsync(path)));

    /// <summary>Writes the tar as a one-volume set (archive and manifest) the way a backup job would.</summary>
    internal static async Task<(BackupManifest Manifest, ManifestVolume Volume)> WriteSetAsync(
        TempFolder folder, byte[] tar, ArchiveCompression compression = ArchiveCompression.Zstd)
    {
        var path = folder.Combine(ArchiveCompressionStreams.ArchiveFileName("lab_data", compression));
        var result = await ArchiveWriter.WriteAsync(new MemoryStream(tar), path, new ArchiveWriteOptions { Compression = compression }, CancellationToken.None);
        var volume = ManifestVolume.FromArchive("lab_data", result, ["local/grafana:test"], ["grafana"]);
        var manifest = new BackupManifest(Guid.NewGuid(), DateTimeOffset.UtcNow, BackupTrigger.Manual, BackupMode.Pause, compression, [volume]);
        await manifest.WriteAsync(folder.Path, CancellationToken.None);
        return (manifest, volume);
    }
}
