using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class ArchiveCompressionTests
{
    [Theory]
    [InlineData(ArchiveCompression.Zstd, "zstd -q -19 -c")]
    [InlineData(ArchiveCompression.Gzip, "gzip -9 -c")]
    public async Task Archives_compressed_by_the_standard_tools_decompress(ArchiveCompression compression, string command)
    {
        using var folder = new TempFolder();
        var tar = ArchiveWriterTests.RichTar();
        await File.WriteAllBytesAsync(folder.Combine("data.tar"), tar);

        await CommandLine.ShellAsync($"{command} {CommandLine.Quote(folder.Combine("data.tar"))} > {CommandLine.Quote(folder.Combine("out"))}", command.Split(' ')[0]);

        Assert.Equal(tar, Compress.Decompress(await File.ReadAllBytesAsync(folder.Combine("out")), compression));
    }

    [Theory]
    [InlineData(ArchiveCompression.Zstd)]
    [InlineData(ArchiveCompression.Gzip)]
    public void Large_mixed_data_round_trips(ArchiveCompression compression)
    {
        var random = TarSafetyValidatorTests.RandomBytes(3 << 20);
        var text = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 60_000).Select(i => $"t={i} level=info msg=\"request\" id={i * 7919 % 10007}\n")));
        var data = random.Concat(text).ToArray();

        var compressed = Compress.Bytes(data, compression);

        Assert.True(compressed.Length < random.Length + text.Length / 3, $"{compressed.Length} bytes");
        Assert.Equal(data, Compress.Decompress(compressed, compression));
    }

    [Fact]
    public async Task A_zstd_archive_carries_a_content_checksum_the_zstd_tool_checks()
    {
        using var folder = new TempFolder();
        await File.WriteAllBytesAsync(folder.Combine("a.zst"), Compress.Bytes(ArchiveWriterTests.RichTar(), ArchiveCompression.Zstd));

        var info = await CommandLine.ShellAsync($"zstd -lv {CommandLine.Quote(folder.Combine("a.zst"))} 2>&1", "zstd");

        Assert.Contains("XXH64", info);
    }

    [Theory]
    [InlineData("lab_grafana-data.tar.zst", ArchiveCompression.Zstd)]
    [InlineData("lab_grafana-data.tar.gz", ArchiveCompression.Gzip)]
    [InlineData("lab_grafana-data.tar", null)]
    [InlineData("lab_grafana-data.zst", null)]
    public void The_compression_is_known_from_the_file_name(string fileName, ArchiveCompression? expected)
    {
        Assert.Equal(expected, ArchiveCompressionStreams.FromFileName(fileName));
    }

    [Fact]
    public void Archive_file_names_are_the_volume_name_and_the_extension()
    {
        Assert.Equal("lab_loki-data.tar.zst", ArchiveCompressionStreams.ArchiveFileName("lab_loki-data", ArchiveCompression.Zstd));
        Assert.Equal("lab_loki-data.tar.gz", ArchiveCompressionStreams.ArchiveFileName("lab_loki-data", ArchiveCompression.Gzip));
    }
}
