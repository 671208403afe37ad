using System.Globalization;
using System.Net;
using System.Text;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>Imports that would exhaust the host: too large for the disk, a compression bomb, a validation that runs too long.</summary>
public sealed class BackupImportLimitTests
{
    [Fact]
    public async Task An_upload_larger_than_the_free_space_is_refused_with_507_naming_both_numbers_before_anything_is_written()
    {
        await using var disk = await TmpfsDirectory.MountAsync("8m");
        var app = new BackupAppFactory(disk.Path);
        app.With("Backups:ImportMaxBytes", "100000000");
        try
        {
            await app.InitializeAsync();
            await app.ReadyAsync();
            using var client = await ClientAsync(app);
            var free = disk.AvailableBytes;
            var body = Multipart(("manifest", "manifest.json", "{}"u8.ToArray()), ("archive", "lab_data.tar.zst", new byte[9 << 20]));

            var response = await PostAsync(client, body);
            var text = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.InsufficientStorage, $"{(int)response.StatusCode} {text}");
            Assert.Contains($"The upload is {body.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes", text);
            Assert.Contains($"has only {free.ToString("N0", CultureInfo.InvariantCulture)} bytes free", text);
            Assert.Empty(Directory.EnumerateFileSystemEntries(disk.Path, "*", SearchOption.AllDirectories));
            Assert.Equal(0, await app.DbAsync(db => db.BackupSets.CountAsync()));
        }
        finally
        {
            await app.DisposeAllAsync();
        }
    }

    [Fact]
    public async Task An_upload_without_a_length_that_fills_the_disk_is_refused_with_507_and_its_partial_files_removed()
    {
        await using var disk = await TmpfsDirectory.MountAsync("8m");
        var app = new BackupAppFactory(disk.Path);
        app.With("Backups:ImportMaxBytes", "100000000");
        try
        {
            await app.InitializeAsync();
            await app.ReadyAsync();
            using var client = await ClientAsync(app);
            var body = Multipart(("manifest", "manifest.json", "{}"u8.ToArray()), ("archive", "lab_data.tar.zst", new byte[9 << 20]));
            // A stream that cannot tell its length: the request goes without Content-Length.
            var content = new StreamContent(new UnknownLengthStream(body));
            content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=XyZ");

            var response = await client.PostAsync("/backups/import", content);
            var text = await response.Content.ReadAsStringAsync();

            Assert.Null(content.Headers.ContentLength);
            Assert.True(response.StatusCode == HttpStatusCode.InsufficientStorage, $"{(int)response.StatusCode} {text}");
            Assert.Contains("ran out of space", text);
            Assert.Empty(Directory.EnumerateFileSystemEntries(disk.Path, "*", SearchOption.AllDirectories));
            Assert.Equal(0, await app.DbAsync(db => db.BackupSets.CountAsync()));
        }
        finally
        {
            await app.DisposeAllAsync();
        }
    }

    [Fact]
    public async Task A_compression_bomb_is_refused_naming_its_numbers_and_nothing_is_listed()
    {
        var app = new BackupAppFactory();
        try
        {
            await app.InitializeAsync();
            await app.ReadyAsync();
            using var client = await ClientAsync(app);
            // 48 MiB of zeros in a few KiB, its manifest saying (as a real bomb's would) 4 GiB of tar.
            var (manifest, archive, name) = await SetAsync(new byte[48 << 20], volume => volume with { TarBytes = 4L << 30 });

            var response = await PostAsync(client, Multipart(("manifest", "manifest.json", manifest), ("archive", name, archive)));
            var text = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
            Assert.Contains("4,294,967,296 bytes (recorded)", text);
            Assert.Contains($"compressed into {archive.Length.ToString("N0", CultureInfo.InvariantCulture)}", text);
            Assert.Contains("Backups__MaxCompressionRatio (1000)", text);
            Assert.Equal(0, await app.DbAsync(db => db.BackupSets.CountAsync()));
            Assert.Empty(Directory.GetFileSystemEntries(app.BackupDirectory));
        }
        finally
        {
            await app.DisposeAllAsync();
        }
    }

    [Fact]
    public async Task A_validation_that_runs_past_its_time_limit_is_refused_naming_the_setting()
    {
        var app = new BackupAppFactory();
        app.With("Backups:ImportMaxBytes", "100000000").With("Backups:ImportValidationTimeout", "00:00:00.001");
        try
        {
            await app.InitializeAsync();
            await app.ReadyAsync();
            using var client = await ClientAsync(app);
            // 16 MiB of noise: hashing and decompressing it takes far longer than a millisecond.
            var (manifest, archive, name) = await SetAsync(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16 << 20), volume => volume);

            var response = await PostAsync(client, Multipart(("manifest", "manifest.json", manifest), ("archive", name, archive)));
            var text = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
            Assert.Contains("Backups__ImportValidationTimeout", text);
            Assert.Contains("took longer than 00:00:00.0010000", text);
            Assert.Equal(0, await app.DbAsync(db => db.BackupSets.CountAsync()));
            Assert.Empty(Directory.GetFileSystemEntries(app.BackupDirectory));
        }
        finally
        {
            await app.DisposeAllAsync();
        }
    }

    private static async Task<HttpClient> ClientAsync(BackupAppFactory app)
    {
        var email = $"importer-{Guid.NewGuid():N}@panel.test";
        await TestAccounts.CreateAsync(app.Services, email, PanelRoles.Instructor);
        var client = await app.CreateSignedInClientAsync(email, TestAccounts.Password);
        // What a script sends with a cookie-authenticated write (the cross-origin rule).
        client.DefaultRequestHeaders.Add(CrossOriginWriteGuard.HeaderName, "1");
        return client;
    }

    /// <summary>A one-volume set of one file, written as a backup writes it; its manifest volume changed by <paramref name="change"/>.</summary>
    private static async Task<(byte[] Manifest, byte[] Archive, string Name)> SetAsync(byte[] content, Func<ManifestVolume, ManifestVolume> change)
    {
        var folder = Directory.CreateTempSubdirectory("gp-import-set-");
        try
        {
            var tar = new MemoryStream();
            await using (var writer = new System.Formats.Tar.TarWriter(tar, leaveOpen: true))
            {
                await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, "lab_data/"));
                await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "lab_data/file")
                {
                    DataStream = new MemoryStream(content),
                });
            }

            tar.Position = 0;
            var name = ArchiveCompressionStreams.ArchiveFileName("lab_data", ArchiveCompression.Zstd);
            var result = await ArchiveWriter.WriteAsync(tar, Path.Combine(folder.FullName, name), new ArchiveWriteOptions(), CancellationToken.None);
            var volume = change(ManifestVolume.FromArchive("lab_data", result, ["local/app:1"], ["app"]));
            await new BackupManifest(Guid.NewGuid(), DateTimeOffset.UtcNow, BackupTrigger.Manual, BackupMode.Pause, ArchiveCompression.Zstd, [volume])
                .WriteAsync(folder.FullName, CancellationToken.None);
            return (await File.ReadAllBytesAsync(Path.Combine(folder.FullName, BackupManifest.FileName)),
                await File.ReadAllBytesAsync(Path.Combine(folder.FullName, name)), name);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static byte[] Multipart(params (string Field, string FileName, byte[] Content)[] parts)
    {
        var body = new MemoryStream();
        foreach (var (field, fileName, content) in parts)
        {
            body.Write(Encoding.UTF8.GetBytes(
                $"--XyZ\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
            body.Write(content);
            body.Write("\r\n"u8);
        }

        body.Write("--XyZ--\r\n"u8);
        return body.ToArray();
    }

    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=XyZ");
        return await client.PostAsync("/backups/import", content);
    }
}
