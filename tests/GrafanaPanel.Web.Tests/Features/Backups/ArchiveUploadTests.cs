using System.Security.Cryptography;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class ArchiveUploadTests
{
    [Fact]
    public async Task The_upload_gets_the_tar_exactly_and_the_walk_of_the_same_bytes_gives_the_summary()
    {
        using var folder = new TempFolder();
        var tar = LargeTar(new TarBuilder().File("data/ok"));
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, tar);
        var checkedArchive = await ArchiveVerifier.CheckAsync(folder.Path, manifest, volume, ArchiveLimits.Default, CancellationToken.None);
        var uploaded = new MemoryStream();

        var validated = await ArchiveUpload.UploadAsync(checkedArchive, (stream, ct) => stream.CopyToAsync(uploaded, ct), null, CancellationToken.None);

        Assert.Equal(tar, uploaded.ToArray());
        Assert.Equal(new TarSummary("data", volume.EntryCount, tar.Length, validated.Summary.FileBytes), validated.Summary);
        Assert.Equal((await ArchiveVerifier.ValidateAsync(folder.Path, manifest, volume, CancellationToken.None)).Summary, validated.Summary);
    }

    [Fact]
    public async Task An_unsafe_entry_stops_the_upload_before_the_rest_of_the_tar_is_sent_and_is_named()
    {
        using var folder = new TempFolder();
        var tar = LargeTar(new TarBuilder().File("data/ok").Symlink("data/up", "../../etc"));
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, tar);
        // The cheap check passes: the file is the one recorded, only its walk finds the entry.
        var checkedArchive = await ArchiveVerifier.CheckAsync(folder.Path, manifest, volume, ArchiveLimits.Default, CancellationToken.None);
        long uploaded = 0;

        var refusal = await Assert.ThrowsAsync<UnsafeArchiveException>(() => ArchiveUpload.UploadAsync(checkedArchive, async (stream, ct) =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                uploaded += read;
            }
        }, null, CancellationToken.None));

        Assert.Equal("data/up", refusal.EntryName);
        Assert.True(uploaded < tar.Length, $"{uploaded} of {tar.Length} bytes were uploaded");
    }

    [Fact]
    public async Task A_file_changed_after_its_check_uploads_nothing()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, ArchiveWriterTests.RichTar());
        var checkedArchive = await ArchiveVerifier.CheckAsync(folder.Path, manifest, volume, ArchiveLimits.Default, CancellationToken.None);
        await File.AppendAllTextAsync(folder.Combine(volume.ArchiveFile), "tampered");
        var uploaded = new MemoryStream();

        var refusal = await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            ArchiveUpload.UploadAsync(checkedArchive, (stream, ct) => stream.CopyToAsync(uploaded, ct), null, CancellationToken.None));

        Assert.Contains("changed after it was validated", refusal.Message);
        Assert.Equal(0, uploaded.Length);
    }

    [Fact]
    public async Task A_failing_upload_is_the_error_reported_and_stops_the_read()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, LargeTar(new TarBuilder().File("data/ok")));
        var checkedArchive = await ArchiveVerifier.CheckAsync(folder.Path, manifest, volume, ArchiveLimits.Default, CancellationToken.None);

        var failure = await Assert.ThrowsAsync<IOException>(() => ArchiveUpload.UploadAsync(checkedArchive, async (stream, ct) =>
        {
            await stream.ReadExactlyAsync(new byte[4096], ct);
            throw new IOException("the daemon went away");
        }, null, CancellationToken.None));

        Assert.Equal("the daemon went away", failure.Message);
    }

    [Fact]
    public async Task The_cheap_check_refuses_a_flipped_byte_by_its_hash_and_an_archive_beyond_the_limits_by_its_manifest()
    {
        using var folder = new TempFolder();
        var (manifest, volume) = await ArchiveVerifierTests.WriteSetAsync(folder, ArchiveWriterTests.RichTar());
        var path = folder.Combine(volume.ArchiveFile);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^20] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes);

        var damaged = await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            ArchiveVerifier.CheckAsync(folder.Path, manifest, volume, ArchiveLimits.Default, CancellationToken.None));
        var tooLarge = await Assert.ThrowsAsync<UnsafeArchiveException>(() =>
            ArchiveVerifier.CheckAsync(folder.Path, manifest, volume, ArchiveLimits.Default with { MaxTarBytes = volume.TarBytes - 1 }, CancellationToken.None));

        Assert.Contains("SHA-256", damaged.Message);
        Assert.Equal(TarRule.TooLarge, tooLarge.Rule);
    }

    /// <summary>The builder's entries and then 20 MiB of random files: more than the pipes hold.</summary>
    private static byte[] LargeTar(TarBuilder builder)
    {
        for (var i = 0; i < 10; i++)
        {
            builder.File($"data/{i}", RandomNumberGenerator.GetBytes(2 << 20));
        }

        return builder.Build();
    }
}
