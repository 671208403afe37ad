using System.Formats.Tar;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

/// <summary>Every bad tar input of docs/security.md ("Tar entry validation"), built programmatically, compressed, and refused with the entry named.</summary>
public sealed class TarSafetyValidatorTests
{
    private static readonly TarSafetyOptions Options = new() { ExpectedRoot = "data", MaxTarBytes = 64L << 20 };

    [Theory]
    [InlineData("../../etc/passwd", TarRule.ParentSegment)]
    [InlineData("data/../../etc/passwd", TarRule.ParentSegment)]
    [InlineData("data/a/../../b", TarRule.ParentSegment)]
    [InlineData("/etc/cron.d/x", TarRule.AbsolutePath)]
    [InlineData("..\\..\\x", TarRule.Backslash)]
    [InlineData("data\\..\\..\\x", TarRule.Backslash)]
    [InlineData("data/./x", TarRule.NonCanonicalPath)]
    [InlineData("data//x", TarRule.NonCanonicalPath)]
    [InlineData("other/x", TarRule.OutsideRoot)]
    public async Task A_file_with_a_bad_name_is_refused_naming_it(string name, TarRule rule)
    {
        var tar = new TarBuilder().File("data/ok.txt").File(name).Build();

        var refusal = await RefusalAsync(tar);

        Assert.Equal(rule, refusal.Rule);
        Assert.Equal(name, refusal.EntryName);
        Assert.Contains(name, refusal.Message);
    }

    [Fact]
    public async Task A_bad_name_as_the_very_first_entry_is_refused_too()
    {
        var refusal = await RefusalAsync(new TarBuilder(root: null).File("../../etc/passwd").Build());

        Assert.Equal(TarRule.ParentSegment, refusal.Rule);
        Assert.Equal("../../etc/passwd", refusal.EntryName);
    }

    [Fact]
    public async Task A_symlink_to_the_file_system_root_is_refused()
    {
        var refusal = await RefusalAsync(new TarBuilder().Symlink("data/d", "/").File("data/d/etc/shadow").Build());

        Assert.Equal(TarRule.SymlinkEscapes, refusal.Rule);
        Assert.Equal("data/d", refusal.EntryName);
        Assert.Contains("absolute", refusal.Message);
    }

    [Theory]
    [InlineData("data/d", "../..")]
    [InlineData("data/d", "..")]
    [InlineData("data/a/b/l", "../../../x")]
    [InlineData("data/a/l", "../../etc")]
    [InlineData("data/a/l", "sub/../../../etc")]
    public async Task A_symlink_whose_target_leaves_the_root_is_refused(string name, string target)
    {
        var refusal = await RefusalAsync(new TarBuilder().Directory("data/a/").Directory("data/a/b/").Symlink(name, target).Build());

        Assert.Equal(TarRule.SymlinkEscapes, refusal.Rule);
        Assert.Equal(name, refusal.EntryName);
        Assert.Contains(target, refusal.Message);
    }

    [Fact]
    public async Task An_entry_written_through_a_symlink_is_refused_even_when_the_link_stays_inside()
    {
        var tar = new TarBuilder().Directory("data/sub/").Symlink("data/d", "sub").File("data/d/etc/shadow").Build();

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.ThroughSymlink, refusal.Rule);
        Assert.Equal("data/d/etc/shadow", refusal.EntryName);
        Assert.Contains("data/d", refusal.Message);
    }

    [Fact]
    public async Task A_chained_symlink_that_climbs_out_through_another_link_is_refused()
    {
        // data/a/b -> .. is the root itself; b/.. then climbs above it, although the text "b/.." reads as data/a.
        var tar = new TarBuilder().Directory("data/a/").Symlink("data/a/b", "..").Symlink("data/a/c", "b/..").Build();

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.SymlinkEscapes, refusal.Rule);
        Assert.Equal("data/a/c", refusal.EntryName);
    }

    [Fact]
    public async Task A_symlink_that_only_escapes_through_a_later_link_is_refused_at_the_end()
    {
        // When data/x/c is read, l is unknown and l/../.. stays inside; the later l -> .. makes c climb out.
        var tar = new TarBuilder().Directory("data/x/").Symlink("data/x/c", "l/../..").Symlink("data/x/l", "..").Build();

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.SymlinkEscapes, refusal.Rule);
        Assert.Equal("data/x/c", refusal.EntryName);
    }

    [Fact]
    public async Task A_symlink_loop_is_refused()
    {
        var refusal = await RefusalAsync(new TarBuilder().Symlink("data/a", "b").Symlink("data/b", "a").Build());

        Assert.Equal(TarRule.SymlinkEscapes, refusal.Rule);
        Assert.Contains("loop", refusal.Message);
    }

    [Theory]
    [InlineData("/etc/shadow", TarRule.HardLinkTarget)]
    [InlineData("data/later.txt", TarRule.HardLinkTarget)]
    [InlineData("data/../etc/shadow", TarRule.ParentSegment)]
    [InlineData("other/x", TarRule.HardLinkTarget)]
    [InlineData("data", TarRule.HardLinkTarget)]
    public async Task A_hard_link_to_anything_but_an_earlier_file_of_the_archive_is_refused(string target, TarRule rule)
    {
        var tar = new TarBuilder().HardLink("data/h", target).File("data/later.txt").Build();

        var refusal = await RefusalAsync(tar);

        Assert.Equal(rule, refusal.Rule);
        Assert.Equal("data/h", refusal.EntryName);
    }

    [Theory]
    [InlineData(TarEntryType.CharacterDevice, TarRule.DeviceFile)]
    [InlineData(TarEntryType.BlockDevice, TarRule.DeviceFile)]
    [InlineData(TarEntryType.Fifo, TarRule.Fifo)]
    public async Task Device_files_and_fifos_are_refused(TarEntryType type, TarRule rule)
    {
        var refusal = await RefusalAsync(new TarBuilder().Special(type, "data/dev/x").Build());

        Assert.Equal(rule, refusal.Rule);
        Assert.Equal("data/dev/x", refusal.EntryName);
    }

    [Theory]
    [InlineData(0x9ED)] // 04755 setuid
    [InlineData(0x5ED)] // 02755 setgid
    public async Task Setuid_and_setgid_files_are_refused_saying_why(int mode)
    {
        var refusal = await RefusalAsync(new TarBuilder().File("data/bin/sh", "#!", (UnixFileMode)mode).Build());

        Assert.Equal(TarRule.SetuidSetgid, refusal.Rule);
        Assert.Equal("data/bin/sh", refusal.EntryName);
        Assert.Contains("rights", refusal.Message);
    }

    [Fact]
    public async Task A_setgid_folder_is_accepted_because_it_only_passes_its_group_on()
    {
        var tar = new TarBuilder().Directory("data/shared/", (UnixFileMode)0x5FD).File("data/shared/f").Build();

        var summary = await ValidateAsync(tar);

        Assert.Equal(3, summary.EntryCount);
    }

    [Theory]
    [InlineData("data/a", "data/a")]
    [InlineData("data/a/", "data/a")]
    [InlineData("data/a", "data/a/")]
    public async Task Duplicate_names_are_refused(string first, string second)
    {
        var builder = new TarBuilder();
        Add(builder, first);
        Add(builder, second);

        var refusal = await RefusalAsync(builder.Build());

        Assert.Equal(TarRule.DuplicateName, refusal.Rule);
        Assert.Equal(second, refusal.EntryName);

        static void Add(TarBuilder builder, string name)
        {
            if (name.EndsWith('/'))
            {
                builder.Directory(name);
            }
            else
            {
                builder.File(name);
            }
        }
    }

    [Fact]
    public async Task An_entry_below_a_file_is_refused()
    {
        var refusal = await RefusalAsync(new TarBuilder().File("data/f").File("data/f/x").Build());

        Assert.Equal(TarRule.ParentNotDirectory, refusal.Rule);
        Assert.Equal("data/f/x", refusal.EntryName);
    }

    [Fact]
    public async Task A_pax_name_with_a_segment_over_255_bytes_is_refused_naming_it()
    {
        var name = "data/" + new string('n', 300);

        var refusal = await RefusalAsync(new TarBuilder().File(name).Build());

        Assert.Equal(TarRule.PathTooLong, refusal.Rule);
        Assert.Equal(name, refusal.EntryName);
        Assert.Contains(name, refusal.Message);
        Assert.Contains("255", refusal.Message);
    }

    [Fact]
    public async Task A_pax_name_over_4096_bytes_is_refused()
    {
        var name = "data/" + string.Join('/', Enumerable.Repeat(new string('d', 200), 21)) + "/f";

        var refusal = await RefusalAsync(new TarBuilder().File(name).Build());

        Assert.Equal(TarRule.PathTooLong, refusal.Rule);
        Assert.Equal(name, refusal.EntryName);
        Assert.Contains("4096", refusal.Message);
    }

    [Fact]
    public async Task A_long_pax_name_made_of_ordinary_folder_names_is_accepted()
    {
        var name = "data/" + string.Join('/', Enumerable.Repeat("folder-name-of-twenty", 30)) + "/file.json";
        Assert.True(name.Length > 600);

        var summary = await ValidateAsync(new TarBuilder().File(name).Build());

        Assert.Equal(2, summary.EntryCount);
    }

    [Fact]
    public async Task A_pax_header_over_the_metadata_limit_is_refused_before_it_is_buffered()
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, "data/big-header",
            new Dictionary<string, string> { ["comment"] = new string('x', 2 << 20) }) { DataStream = new MemoryStream([1]) };
        var tar = new TarBuilder().File("data/before").Add(entry).Build();

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.HeaderTooLarge, refusal.Rule);
        Assert.Equal("data/before", refusal.EntryName);
    }

    [Theory]
    [InlineData("GNU.sparse.name", "data/renamed", TarRule.UnsupportedType)]
    [InlineData("mode", "420", TarRule.UnsupportedType)]
    [InlineData("SCHILY.xattr.security.capability", "\u0001", TarRule.SetuidSetgid)]
    public async Task A_pax_attribute_docker_does_not_write_is_refused(string key, string value, TarRule rule)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, "data/f", new Dictionary<string, string> { [key] = value })
        {
            Mode = (UnixFileMode)0x1A4,
            DataStream = new MemoryStream([1]),
        };

        var refusal = await RefusalAsync(new TarBuilder().Add(entry).Build());

        Assert.Equal(rule, refusal.Rule);
        Assert.Equal("data/f", refusal.EntryName);
    }

    [Theory]
    [InlineData("SCHILY.xattr.security.selinux", "security.selinux")]
    [InlineData("SCHILY.xattr.security.ima", "security.ima")]
    [InlineData("SCHILY.xattr.trusted.overlay.opaque", "trusted.overlay.opaque")]
    [InlineData("SCHILY.xattr.system.posix_acl_access", "system.posix_acl_access")]
    [InlineData("SCHILY.xattr.user.", "user.")]
    [InlineData("LIBARCHIVE.xattr.user.origin", "user.origin")]
    [InlineData("LIBARCHIVE.xattr.security.capability", "security.capability")]
    public async Task An_extended_attribute_outside_the_user_namespace_is_refused_naming_it(string key, string attribute)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, "data/f", new Dictionary<string, string> { [key] = "x" })
        {
            Mode = (UnixFileMode)0x1A4,
            DataStream = new MemoryStream([1]),
        };

        var refusal = await RefusalAsync(new TarBuilder().File("data/ok").Add(entry).Build());

        Assert.Equal(TarRule.ExtendedAttribute, refusal.Rule);
        Assert.Equal("data/f", refusal.EntryName);
        Assert.Contains($"'{attribute}'", refusal.Message);
        Assert.Contains("only user.*", refusal.Message);
    }

    [Fact]
    public async Task Extended_attributes_in_the_user_namespace_are_accepted()
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, "data/f",
            new Dictionary<string, string> { ["SCHILY.xattr.user.origin"] = "lab", ["SCHILY.xattr.user.mime_type"] = "text/plain" })
        {
            DataStream = new MemoryStream([1]),
        };

        var summary = await ValidateAsync(new TarBuilder().Add(entry).Build());

        Assert.Equal(2, summary.EntryCount);
    }

    [Fact]
    public async Task A_global_pax_header_is_refused_as_an_unsupported_entry()
    {
        var tar = new TarBuilder().Add(new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["path"] = "/etc" }))
            .File("data/x").Build();

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.UnsupportedType, refusal.Rule);
    }

    [Fact]
    public async Task An_entry_type_docker_never_writes_is_refused()
    {
        var root = new TarBuilder(format: TarEntryFormat.Ustar).Build()[..512];
        var tar = RawTar.Concat(root, RawTar.Header("data/contiguous", '7', size: 3), "abc"u8.ToArray(), new byte[509], RawTar.EndMarker);

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.UnsupportedType, refusal.Rule);
        Assert.Equal("data/contiguous", refusal.EntryName);
    }

    [Fact]
    public async Task A_compression_bomb_stops_at_the_size_limit_naming_the_entry_being_read()
    {
        var tar = new TarBuilder().File("data/zeros", new byte[48 << 20]).File("data/after").Build();
        var archive = Compress.Bytes(tar, ArchiveCompression.Zstd);
        Assert.True(archive.Length < 64 << 10, "48 MiB of zeros compresses to a few KiB");

        var refusal = await RefusalAsync(archive, Options with { MaxTarBytes = 4 << 20 }, ArchiveCompression.Zstd);

        Assert.Equal(TarRule.TooLarge, refusal.Rule);
        Assert.Equal("data/zeros", refusal.EntryName);
        Assert.Contains("4,194,304 bytes allowed", refusal.Message);
    }

    [Fact]
    public async Task A_tar_cut_in_the_middle_of_a_file_is_refused_as_truncated()
    {
        var tar = new TarBuilder().File("data/a", new byte[5000]).File("data/b", new byte[5000]).Build();

        var refusal = await RefusalAsync(tar[..5000]);

        Assert.Equal(TarRule.Truncated, refusal.Rule);
        Assert.Equal("data/a", refusal.EntryName);
    }

    [Fact]
    public async Task A_tar_cut_right_after_an_entry_is_refused_for_its_missing_end_marker()
    {
        var tar = new TarBuilder().File("data/a", new byte[512]).Build();

        var refusal = await RefusalAsync(tar[..^1024]);

        Assert.Equal(TarRule.Truncated, refusal.Rule);
        Assert.Equal("data/a", refusal.EntryName);
        Assert.Contains("end-of-archive", refusal.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ArchiveCompression.Zstd)]
    [InlineData(ArchiveCompression.Gzip)]
    public async Task A_truncated_compressed_stream_is_refused(ArchiveCompression compression)
    {
        var tar = new TarBuilder().File("data/a", RandomBytes(200_000)).Build();
        var archive = Compress.Bytes(tar, compression);

        var refusal = await RefusalAsync(archive[..(archive.Length / 2)], Options, compression);

        Assert.Contains(refusal.Rule, new[] { TarRule.Truncated, TarRule.Corrupt });
    }

    [Fact]
    public async Task A_header_with_a_flipped_byte_is_refused_as_corrupt()
    {
        var tar = new TarBuilder(format: TarEntryFormat.Ustar).File("data/a", "abc").File("data/b", "def").Build();
        tar[512 * 3 + 10] ^= 0x20; // inside data/b's header name: the checksum no longer matches

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.Corrupt, refusal.Rule);
        Assert.Equal("data/b", refusal.EntryName);
        Assert.Contains("checksum", refusal.Message);
    }

    [Fact]
    public async Task A_header_whose_checksum_field_was_changed_is_refused_as_corrupt()
    {
        var tar = new TarBuilder(format: TarEntryFormat.Ustar).File("data/a", "abc").Build();
        "0000001\0"u8.CopyTo(tar.AsSpan(512 + 148));

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.Corrupt, refusal.Rule);
        Assert.Contains("checksum", refusal.Message);
    }

    [Theory]
    [InlineData(ArchiveCompression.Zstd)]
    [InlineData(ArchiveCompression.Gzip)]
    public async Task Compressed_data_with_a_flipped_byte_is_refused(ArchiveCompression compression)
    {
        var tar = new TarBuilder().File("data/log.txt", string.Concat(Enumerable.Repeat("level=info msg=hello\n", 5000))).Build();
        var archive = Compress.Bytes(tar, compression);
        archive[archive.Length / 2] ^= 0x01;

        var refusal = await RefusalAsync(archive, Options, compression);

        Assert.Contains(refusal.Rule, new[] { TarRule.Corrupt, TarRule.Truncated });
    }

    [Fact]
    public async Task Trailing_garbage_after_the_end_marker_is_refused()
    {
        var tar = RawTar.Concat(new TarBuilder().File("data/a").Build(), "garbage"u8.ToArray(), new byte[505]);

        var refusal = await RefusalAsync(tar);

        Assert.Equal(TarRule.TrailingData, refusal.Rule);
    }

    [Fact]
    public async Task A_second_tar_after_the_first_is_refused_as_trailing_data()
    {
        var first = new TarBuilder().File("data/a").Build();
        var second = new TarBuilder().File("data/evil").Build();

        var refusal = await RefusalAsync(RawTar.Concat(first, second));

        Assert.Equal(TarRule.TrailingData, refusal.Rule);
    }

    [Fact]
    public async Task Zero_padding_after_the_end_marker_is_accepted()
    {
        var tar = RawTar.Concat(new TarBuilder().File("data/a").Build(), new byte[10240 - 1024]);

        var summary = await ValidateAsync(tar);

        Assert.Equal(tar.Length, summary.TarBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1024)]
    public async Task An_archive_without_entries_is_refused(int zeroBytes)
    {
        var refusal = await Assert.ThrowsAsync<UnsafeArchiveException>(() =>
            TarSafetyValidator.ValidateAsync(new MemoryStream(new byte[zeroBytes]), Options with { AllowEmptyVolume = true }, CancellationToken.None));

        Assert.Equal(TarRule.Empty, refusal.Rule);
    }

    [Fact]
    public async Task An_archive_of_only_the_root_folder_is_refused_unless_an_empty_volume_is_allowed()
    {
        var tar = new TarBuilder().Build();

        var refusal = await RefusalAsync(tar);
        var summary = await ValidateAsync(tar, Options with { AllowEmptyVolume = true });

        Assert.Equal(TarRule.Empty, refusal.Rule);
        Assert.Equal(new TarSummary("data", 1, tar.Length, 0), summary);
    }

    [Fact]
    public async Task An_archive_of_another_volume_is_refused()
    {
        var tar = await File.ReadAllBytesAsync(DockerTar("grafana-data.tar"));

        var refusal = await RefusalAsync(tar, Options with { ExpectedRoot = "prometheus-data" });

        Assert.Equal(TarRule.WrongRoot, refusal.Rule);
        Assert.Equal("grafana-data/", refusal.EntryName);
        Assert.Contains("another volume", refusal.Message);
    }

    [Fact]
    public async Task An_archive_whose_first_entry_is_not_the_root_folder_is_refused()
    {
        var refusal = await RefusalAsync(new TarBuilder(root: null).File("data/x").Build());

        Assert.Equal(TarRule.OutsideRoot, refusal.Rule);
        Assert.Equal("data/x", refusal.EntryName);
    }

    [Fact]
    public async Task More_entries_than_allowed_are_refused()
    {
        var tar = new TarBuilder().File("data/1").File("data/2").File("data/3").Build();

        var refusal = await RefusalAsync(tar, Options with { MaxEntries = 3 });

        Assert.Equal(TarRule.TooManyEntries, refusal.Rule);
        Assert.Equal("data/3", refusal.EntryName);
    }

    [Fact]
    public async Task Docker_s_archive_of_a_volume_is_accepted_with_its_pax_names_links_and_setgid_folder()
    {
        var tar = await File.ReadAllBytesAsync(DockerTar("grafana-data.tar"));

        var summary = await ValidateAsync(tar, Options with { ExpectedRoot = "grafana-data" });

        Assert.Equal(new TarSummary("grafana-data", 10, tar.Length, 9 + 2 + 2), summary);
    }

    [Fact]
    public async Task Docker_s_archive_of_an_empty_volume_is_its_root_folder_alone()
    {
        var tar = await File.ReadAllBytesAsync(DockerTar("prometheus-data-empty.tar"));

        var summary = await ValidateAsync(tar, new TarSafetyOptions { MaxTarBytes = tar.Length, AllowEmptyVolume = true });

        Assert.Equal(new TarSummary("prometheus-data", 1, 1536, 0), summary);
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Ustar)]
    public async Task Links_inside_the_volume_empty_folders_and_deep_paths_are_accepted(TarEntryFormat format)
    {
        var tar = new TarBuilder(format: format)
            .Directory("data/conf/")
            .Directory("data/conf/empty/")
            .File("data/conf/grafana.ini", "[server]")
            .HardLink("data/conf/hard.ini", "data/conf/grafana.ini")
            .Symlink("data/current.ini", "conf/grafana.ini")
            .Symlink("data/conf/up", "..")
            .Symlink("data/conf/self", ".")
            .Symlink("data/conf/via", "up/conf/grafana.ini")
            .File("data/a/b/c/d/e/f.json", "{}")
            .Build();

        var summary = await ValidateAsync(tar);

        Assert.Equal(new TarSummary("data", 10, tar.Length, 8 + 2), summary);
    }

    [Fact]
    public async Task The_exact_recorded_size_is_accepted_as_the_limit()
    {
        var tar = new TarBuilder().File("data/a", RandomBytes(10_000)).Build();

        var summary = await ValidateAsync(tar, Options with { MaxTarBytes = tar.Length });

        Assert.Equal(tar.Length, summary.TarBytes);
    }

    [Fact]
    public void A_name_with_control_characters_is_shown_escaped()
    {
        Assert.Equal("data/a\\x0aINFO forged", UnsafeArchiveException.Display("data/a\nINFO forged"));
    }

    internal static string DockerTar(string name) =>
        Path.Combine(AppContext.BaseDirectory, "Features", "Backups", "DockerTars", name);

    internal static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    private static async Task<TarSummary> ValidateAsync(byte[] tar, TarSafetyOptions? options = null)
    {
        var archive = Compress.Bytes(tar, ArchiveCompression.Zstd);
        await using var decompressed = ArchiveCompression.Zstd.OpenDecompressor(new MemoryStream(archive));
        return await TarSafetyValidator.ValidateAsync(decompressed, options ?? Options, CancellationToken.None);
    }

    private static Task<UnsafeArchiveException> RefusalAsync(byte[] tar, TarSafetyOptions? options = null) =>
        RefusalAsync(Compress.Bytes(tar, ArchiveCompression.Zstd), options ?? Options, ArchiveCompression.Zstd);

    private static async Task<UnsafeArchiveException> RefusalAsync(byte[] archive, TarSafetyOptions options, ArchiveCompression compression)
    {
        await using var decompressed = compression.OpenDecompressor(new MemoryStream(archive));
        return await Assert.ThrowsAsync<UnsafeArchiveException>(
            () => TarSafetyValidator.ValidateAsync(decompressed, options, CancellationToken.None));
    }
}
