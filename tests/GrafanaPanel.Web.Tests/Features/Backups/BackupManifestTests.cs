using System.Text.Json.Nodes;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class BackupManifestTests
{
    private static readonly ManifestVolume Grafana = new(
        "lab_grafana-data", "lab_grafana-data.tar.zst", "grafana-data", 9728, 1200, 10, new string('a', 64), ["local/grafana:11"], ["grafana"]);

    private static readonly BackupManifest Manifest = new(
        Guid.Parse("6f1c3a52-8a7e-4f34-9d55-2f3a1c0b9e11"),
        new DateTimeOffset(2026, 11, 26, 5, 30, 0, TimeSpan.Zero),
        BackupTrigger.PreReset,
        BackupMode.Pause,
        ArchiveCompression.Zstd,
        [Grafana, Grafana with { Name = "lab_prometheus-data", ArchiveFile = "lab_prometheus-data.tar.zst", RootName = "prometheus-data", Images = [], Services = [] }]);

    [Fact]
    public async Task A_manifest_reads_back_as_it_was_written()
    {
        using var folder = new TempFolder();

        await Manifest.WriteAsync(folder.Path, CancellationToken.None);
        var read = await BackupManifest.ReadAsync(folder.Path, CancellationToken.None);

        Assert.Equal(Manifest with { Volumes = [] }, read with { Volumes = [] });
        Assert.Equal(Manifest.Volumes.Select(Flatten), read.Volumes.Select(Flatten));
        Assert.Equal(["manifest.json"], folder.Files());
    }

    [Fact]
    public async Task The_file_is_camel_case_json_with_enums_as_words()
    {
        using var folder = new TempFolder();

        await Manifest.WriteAsync(folder.Path, CancellationToken.None);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(folder.Combine("manifest.json")))!;

        Assert.Equal(1, (int)json["formatVersion"]!);
        Assert.Equal("pre-reset", (string)json["trigger"]!);
        Assert.Equal("pause", (string)json["mode"]!);
        Assert.Equal("zstd", (string)json["compression"]!);
        Assert.Equal("6f1c3a52-8a7e-4f34-9d55-2f3a1c0b9e11", (string)json["setId"]!);
        var volume = json["volumes"]![0]!;
        Assert.Equal("lab_grafana-data.tar.zst", (string)volume["archiveFile"]!);
        Assert.Equal(9728, (long)volume["tarBytes"]!);
        Assert.Equal(10, (int)volume["entryCount"]!);
        Assert.Equal("local/grafana:11", (string)volume["images"]![0]!);
    }

    [Fact]
    public async Task A_manifest_is_never_overwritten()
    {
        using var folder = new TempFolder();
        await Manifest.WriteAsync(folder.Path, CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => (Manifest with { Mode = BackupMode.Hot }).WriteAsync(folder.Path, CancellationToken.None));

        Assert.Equal(BackupMode.Pause, (await BackupManifest.ReadAsync(folder.Path, CancellationToken.None)).Mode);
    }

    [Fact]
    public async Task An_invalid_manifest_is_not_written()
    {
        using var folder = new TempFolder();

        var failure = await Assert.ThrowsAsync<InvalidManifestException>(() =>
            (Manifest with { Volumes = [Grafana with { Sha256 = "abc" }] }).WriteAsync(folder.Path, CancellationToken.None));

        Assert.Contains("sha256", failure.Message);
        Assert.Empty(folder.Files());
    }

    [Theory]
    [InlineData("volumes/0/sha256", "\"ABC\"", "volumes[0].sha256")]
    [InlineData("volumes/0/archiveFile", "\"../../etc/passwd.tar.zst\"", "volumes[0].archiveFile")]
    [InlineData("volumes/0/archiveFile", "\"lab_grafana-data.tar.gz\"", "volumes[0].archiveFile")]
    [InlineData("volumes/0/rootName", "\"a/b\"", "volumes[0].rootName")]
    [InlineData("volumes/0/name", "\"../grafana\"", "volumes[0].name")]
    [InlineData("volumes/0/entryCount", "0", "entryCount")]
    [InlineData("volumes/1/name", "\"lab_grafana-data\"", "listed more than once")]
    [InlineData("formatVersion", "2", "formatVersion is 2")]
    [InlineData("setId", "\"00000000-0000-0000-0000-000000000000\"", "setId")]
    [InlineData("volumes", "[]", "volumes is empty")]
    [InlineData("trigger", "\"sometimes\"", "$.trigger")]
    [InlineData("compression", "1", "$.compression")]
    [InlineData("volumes/0/sha256", "null", "sha256")]
    public async Task A_bad_field_is_reported_naming_the_file_and_the_field(string field, string value, string expected)
    {
        using var folder = new TempFolder();
        await Manifest.WriteAsync(folder.Path, CancellationToken.None);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(folder.Combine("manifest.json")))!;
        var parts = field.Split('/');
        var parent = parts[..^1].Aggregate(json, (node, part) => int.TryParse(part, out var i) ? node[i]! : node[part]!);
        parent[parts[^1]] = JsonNode.Parse(value);
        await File.WriteAllTextAsync(folder.Combine("manifest.json"), json.ToJsonString());

        var failure = await Assert.ThrowsAsync<InvalidManifestException>(() => BackupManifest.ReadAsync(folder.Path, CancellationToken.None));

        Assert.Contains(folder.Combine("manifest.json"), failure.Message);
        Assert.Contains(expected, failure.Message);
    }

    [Fact]
    public async Task A_missing_field_is_reported_by_name()
    {
        using var folder = new TempFolder();
        await Manifest.WriteAsync(folder.Path, CancellationToken.None);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(folder.Combine("manifest.json")))!;
        json["volumes"]![0]!.AsObject().Remove("sha256");
        await File.WriteAllTextAsync(folder.Combine("manifest.json"), json.ToJsonString());

        var failure = await Assert.ThrowsAsync<InvalidManifestException>(() => BackupManifest.ReadAsync(folder.Path, CancellationToken.None));

        Assert.Contains("sha256", failure.Message);
    }

    [Theory]
    [InlineData("{ not json", "not a valid manifest")]
    [InlineData("null", "JSON null")]
    [InlineData("", "not a valid manifest")]
    public async Task A_file_that_is_not_a_manifest_is_reported(string content, string expected)
    {
        using var folder = new TempFolder();
        await File.WriteAllTextAsync(folder.Combine("manifest.json"), content);

        var failure = await Assert.ThrowsAsync<InvalidManifestException>(() => BackupManifest.ReadAsync(folder.Path, CancellationToken.None));

        Assert.Contains(expected, failure.Message);
        Assert.Equal(folder.Combine("manifest.json"), failure.ManifestPath);
    }

    [Fact]
    public async Task A_missing_manifest_is_reported()
    {
        using var folder = new TempFolder();

        var failure = await Assert.ThrowsAsync<InvalidManifestException>(() => BackupManifest.ReadAsync(folder.Path, CancellationToken.None));

        Assert.Contains("does not exist", failure.Message);
    }

    [Fact]
    public async Task An_oversized_manifest_is_not_read_into_memory()
    {
        using var folder = new TempFolder();
        await using (var file = File.Create(folder.Combine("manifest.json")))
        {
            file.SetLength(2 << 20);
        }

        var failure = await Assert.ThrowsAsync<InvalidManifestException>(() => BackupManifest.ReadAsync(folder.Path, CancellationToken.None));

        Assert.Contains("more than a manifest", failure.Message);
    }

    [Fact]
    public void A_volume_is_found_by_name()
    {
        Assert.Equal("prometheus-data", Manifest.FindVolume("lab_prometheus-data")?.RootName);
        Assert.Null(Manifest.FindVolume("lab_loki-data"));
    }

    private static string Flatten(ManifestVolume v) =>
        $"{v.Name}|{v.ArchiveFile}|{v.RootName}|{v.TarBytes}|{v.CompressedBytes}|{v.EntryCount}|{v.Sha256}|{string.Join(',', v.Images)}|{string.Join(',', v.Services)}";
}
