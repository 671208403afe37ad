using System.Formats.Tar;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class ArchiveWriterTests
{
    [Theory]
    [InlineData(ArchiveCompression.Zstd, "zstd")]
    [InlineData(ArchiveCompression.Gzip, "gzip")]
    public async Task The_standard_tools_list_the_same_entries_and_hash_the_file_the_same(ArchiveCompression compression, string tool)
    {
        using var folder = new TempFolder();
        var tar = RichTar();
        var path = folder.Combine("data" + compression.FileExtension());

        var result = await ArchiveWriter.WriteAsync(new MemoryStream(tar), path, new ArchiveWriteOptions { Compression = compression }, CancellationToken.None);

        var listed = await CommandLine.ShellAsync($"{tool} -d < {CommandLine.Quote(path)} | LC_ALL=C.UTF-8 tar t", tool, "tar");
        var sha256 = await CommandLine.ShellAsync($"sha256sum {CommandLine.Quote(path)}", "sha256sum");
        Assert.Equal(EntryNames(tar), listed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(sha256.Split(' ')[0], result.Sha256);
        Assert.Equal(new FileInfo(path).Length, result.CompressedBytes);
        Assert.Equal(tar.Length, result.TarBytes);
        Assert.Equal(EntryNames(tar).Length, result.EntryCount);
        Assert.Equal("data", result.RootName);
        Assert.Equal(compression, result.Compression);
        Assert.Equal(path, result.Path);
    }

    [Fact]
    public async Task The_archive_holds_the_source_tar_byte_for_byte_and_modes_links_and_empty_folders_survive()
    {
        using var folder = new TempFolder();
        var tar = RichTar();
        var path = folder.Combine("data.tar.zst");

        await ArchiveWriter.WriteAsync(new MemoryStream(tar), path, new ArchiveWriteOptions(), CancellationToken.None);

        var restored = Compress.Decompress(await File.ReadAllBytesAsync(path), ArchiveCompression.Zstd);
        Assert.Equal(tar, restored);
        var entries = ReadEntries(restored);
        Assert.Equal((UnixFileMode)0x1A0, entries["data/conf/grafana.ini"].Mode); // 0640
        Assert.Equal((UnixFileMode)0x5FD, entries["data/shared/"].Mode); // 02775
        Assert.Equal(472, entries["data/shared/"].Uid);
        Assert.Equal(TarEntryType.Directory, entries["data/conf/empty/"].EntryType);
        Assert.Equal("conf/grafana.ini", entries["data/current.ini"].LinkName);
        Assert.Equal(TarEntryType.HardLink, entries["data/conf/hard.ini"].EntryType);
        Assert.Equal("data/conf/grafana.ini", entries["data/conf/hard.ini"].LinkName);
    }

    [Fact]
    public async Task What_the_writer_writes_passes_validation_with_the_figures_it_reported()
    {
        using var folder = new TempFolder();
        var tar = RichTar();
        var path = folder.Combine("data.tar.zst");

        var result = await ArchiveWriter.WriteAsync(new MemoryStream(tar), path, new ArchiveWriteOptions(), CancellationToken.None);
        var summary = await ArchiveVerifier.ValidateAsync(path, ArchiveCompression.Zstd, result.Sha256,
            new TarSafetyOptions { ExpectedRoot = result.RootName, MaxTarBytes = result.TarBytes }, CancellationToken.None);

        Assert.Equal(result.EntryCount, summary.EntryCount);
        Assert.Equal(result.TarBytes, summary.TarBytes);
    }

    [Fact]
    public async Task A_volume_that_a_restore_would_refuse_is_still_backed_up_and_the_problem_reported()
    {
        using var folder = new TempFolder();
        var tar = new TarBuilder().File("data/a").Special(TarEntryType.Fifo, "data/run/pipe").File("data/z").Build();

        var result = await ArchiveWriter.WriteAsync(new MemoryStream(tar), folder.Combine("data.tar.zst"), new ArchiveWriteOptions(), CancellationToken.None);

        Assert.Equal(4, result.EntryCount);
        Assert.NotNull(result.RestoreProblem);
        Assert.Contains("data/run/pipe", result.RestoreProblem);
        Assert.Contains("Fifo", result.RestoreProblem);
    }

    [Fact]
    public async Task A_restorable_volume_has_no_restore_problem()
    {
        using var folder = new TempFolder();

        var result = await ArchiveWriter.WriteAsync(new MemoryStream(RichTar()), folder.Combine("data.tar.zst"), new ArchiveWriteOptions(), CancellationToken.None);

        Assert.Null(result.RestoreProblem);
    }

    [Fact]
    public async Task Docker_s_archive_of_an_empty_volume_is_written_as_one_entry()
    {
        using var folder = new TempFolder();
        var tar = await File.ReadAllBytesAsync(TarSafetyValidatorTests.DockerTar("prometheus-data-empty.tar"));

        var result = await ArchiveWriter.WriteAsync(new MemoryStream(tar), folder.Combine("p.tar.zst"), new ArchiveWriteOptions(), CancellationToken.None);

        Assert.Equal((1, 1536L, "prometheus-data", null), (result.EntryCount, result.TarBytes, result.RootName, result.RestoreProblem));
    }

    [Fact]
    public async Task Progress_reports_growing_byte_counts_and_ends_with_the_totals()
    {
        using var folder = new TempFolder();
        var tar = new TarBuilder().File("data/a.bin", TarSafetyValidatorTests.RandomBytes(5 << 20)).File("data/b.txt").Build();
        var reports = new List<ArchiveProgress>();
        var progress = new SynchronousProgress(reports.Add);

        var result = await ArchiveWriter.WriteAsync(new SlowStream(tar, 64 << 10), folder.Combine("data.tar.zst"),
            new ArchiveWriteOptions { Progress = progress }, CancellationToken.None);

        Assert.True(reports.Count >= 3, $"only {reports.Count} progress reports");
        Assert.Equal(reports.Select(r => r.TarBytes).Order(), reports.Select(r => r.TarBytes));
        Assert.Equal(new ArchiveProgress(result.TarBytes, result.CompressedBytes, result.EntryCount), reports[^1]);
    }

    [Fact]
    public async Task A_cancelled_write_leaves_neither_the_archive_nor_a_partial_file()
    {
        using var folder = new TempFolder();
        using var cts = new CancellationTokenSource();
        var source = new SlowStream(new TarBuilder().File("data/a.bin", TarSafetyValidatorTests.RandomBytes(4 << 20)).Build(), 64 << 10)
        {
            AfterBytes = (1 << 20, () => cts.Cancel()),
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ArchiveWriter.WriteAsync(source, folder.Combine("data.tar.zst"), new ArchiveWriteOptions(), cts.Token));

        Assert.Empty(folder.Files());
    }

    [Fact]
    public async Task A_source_that_fails_half_way_leaves_neither_the_archive_nor_a_partial_file()
    {
        using var folder = new TempFolder();
        var source = new SlowStream(new TarBuilder().File("data/a.bin", TarSafetyValidatorTests.RandomBytes(4 << 20)).Build(), 64 << 10)
        {
            AfterBytes = (1 << 20, () => throw new IOException("the daemon went away")),
        };

        var failure = await Assert.ThrowsAsync<IOException>(() =>
            ArchiveWriter.WriteAsync(source, folder.Combine("data.tar.gz"), new ArchiveWriteOptions { Compression = ArchiveCompression.Gzip }, CancellationToken.None));

        Assert.Equal("the daemon went away", failure.Message);
        Assert.Empty(folder.Files());
    }

    [Fact]
    public async Task A_stream_that_is_not_a_tar_fails_and_leaves_nothing()
    {
        using var folder = new TempFolder();
        var notTar = TarSafetyValidatorTests.RandomBytes(4096);

        await Assert.ThrowsAsync<InvalidDataException>(() =>
            ArchiveWriter.WriteAsync(new MemoryStream(notTar), folder.Combine("data.tar.zst"), new ArchiveWriteOptions(), CancellationToken.None));

        Assert.Empty(folder.Files());
    }

    [Theory]
    [InlineData(512)] // one of the two zero blocks of the end-of-archive marker
    [InlineData(1024)] // right after the last entry
    [InlineData(1500)] // inside the last entry's data
    public async Task A_daemon_stream_that_ends_early_fails_and_leaves_nothing(int missingBytes)
    {
        using var folder = new TempFolder();
        var tar = new TarBuilder(format: TarEntryFormat.Ustar).File("data/a", new byte[1024]).Build();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() =>
            ArchiveWriter.WriteAsync(new MemoryStream(tar[..^missingBytes]), folder.Combine("data.tar.zst"), new ArchiveWriteOptions(), CancellationToken.None));

        Assert.True(failure is EndOfStreamException or InvalidDataException, failure.ToString());
        Assert.Empty(folder.Files());
    }

    [Fact]
    public async Task An_empty_stream_fails_because_docker_always_writes_the_root_folder()
    {
        using var folder = new TempFolder();

        var failure = await Assert.ThrowsAsync<InvalidDataException>(() =>
            ArchiveWriter.WriteAsync(new MemoryStream(new byte[1024]), folder.Combine("data.tar.zst"), new ArchiveWriteOptions(), CancellationToken.None));

        Assert.Contains("no entries", failure.Message);
        Assert.Empty(folder.Files());
    }

    [Fact]
    public async Task An_existing_archive_is_never_overwritten()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("data.tar.zst");
        await File.WriteAllTextAsync(path, "the earlier archive");

        await Assert.ThrowsAsync<IOException>(() =>
            ArchiveWriter.WriteAsync(new MemoryStream(RichTar()), path, new ArchiveWriteOptions(), CancellationToken.None));

        Assert.Equal("the earlier archive", await File.ReadAllTextAsync(path));
        Assert.Equal(["data.tar.zst"], folder.Files());
    }

    [Fact]
    public void Cleanup_removes_leftover_partial_files_in_set_folders_and_nothing_else()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Combine("set-1"));
        File.WriteAllText(folder.Combine("set-1/grafana.tar.zst.1a2b3c4d.partial"), "killed mid-write");
        File.WriteAllText(folder.Combine("set-1/manifest.json.00000000.partial"), "{");
        File.WriteAllText(folder.Combine("set-1/prometheus.tar.zst"), "complete");
        File.WriteAllText(folder.Combine("set-1/manifest.json"), "{}");

        var deleted = ArchiveWriter.CleanupPartials(folder.Path);

        Assert.Equal(2, deleted.Count);
        Assert.Equal(["set-1/manifest.json", "set-1/prometheus.tar.zst"], folder.Files());
    }

    [Fact]
    public async Task Cleanup_leaves_alone_a_partial_file_that_is_being_written_now()
    {
        using var folder = new TempFolder();
        var source = new SlowStream(new TarBuilder().File("data/a.bin", TarSafetyValidatorTests.RandomBytes(2 << 20)).Build(), 64 << 10);
        IReadOnlyList<string>? deletedMidWrite = null;
        source.AfterBytes = (1 << 20, () => deletedMidWrite = ArchiveWriter.CleanupPartials(folder.Path));

        await ArchiveWriter.WriteAsync(source, folder.Combine("data.tar.zst"), new ArchiveWriteOptions(), CancellationToken.None);

        Assert.NotNull(deletedMidWrite);
        Assert.Empty(deletedMidWrite);
        Assert.Equal(["data.tar.zst"], folder.Files());
    }

    [Fact]
    public void Cleanup_of_a_missing_folder_deletes_nothing()
    {
        Assert.Empty(ArchiveWriter.CleanupPartials(Path.Combine(Path.GetTempPath(), "gp-no-such-folder-" + Guid.NewGuid())));
    }

    /// <summary>A tar like Docker's of a Grafana volume: modes, owner, links, an empty and a setgid folder, PAX names.</summary>
    internal static byte[] RichTar()
    {
        var shared = new PaxTarEntry(TarEntryType.Directory, "data/shared/") { Mode = (UnixFileMode)0x5FD, Uid = 472, Gid = 472 };
        return new TarBuilder()
            .Directory("data/conf/")
            .Directory("data/conf/empty/")
            .File("data/conf/grafana.ini", "[server]\nhttp_port = 3000\n", (UnixFileMode)0x1A0)
            .HardLink("data/conf/hard.ini", "data/conf/grafana.ini")
            .Symlink("data/current.ini", "conf/grafana.ini")
            .Add(shared)
            .File("data/plugins/" + new string('p', 150) + ".json", "{}")
            .File("data/plugins/ünïcode.txt", "u")
            .File("data/logs/grafana.log", string.Concat(Enumerable.Repeat("t=2026-01-01 level=info msg=\"Request Completed\"\n", 2000)))
            .Build();
    }

    internal static string[] EntryNames(byte[] tar) => ReadEntries(tar).Keys.ToArray();

    private static Dictionary<string, TarEntry> ReadEntries(byte[] tar)
    {
        var entries = new Dictionary<string, TarEntry>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry() is { } entry)
        {
            entries.Add(entry.Name, entry);
        }

        return entries;
    }

    private sealed class SynchronousProgress(Action<ArchiveProgress> report) : IProgress<ArchiveProgress>
    {
        public void Report(ArchiveProgress value) => report(value);
    }

    /// <summary>Hands out at most <c>chunk</c> bytes per read, like a socket, and can act once a number of bytes was read.</summary>
    private sealed class SlowStream(byte[] content, int chunk) : MemoryStream(content)
    {
        public (long Bytes, Action Action)? AfterBytes { get; set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (AfterBytes is { } after && Position >= after.Bytes)
            {
                AfterBytes = null;
                after.Action();
            }

            await Task.Yield();
            return await base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
        }
    }
}
