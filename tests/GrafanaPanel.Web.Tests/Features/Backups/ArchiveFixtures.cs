using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

/// <summary>Builds tars in memory the way Docker's archive API shapes them: every entry under one root folder.</summary>
internal sealed class TarBuilder
{
    private readonly MemoryStream _stream = new();
    private readonly TarWriter _writer;

    public TarBuilder(string? root = "data", TarEntryFormat format = TarEntryFormat.Pax)
    {
        Format = format;
        _writer = new TarWriter(_stream, format, leaveOpen: true);
        if (root is not null)
        {
            Directory(root + "/");
        }
    }

    public TarEntryFormat Format { get; }

    public TarBuilder Directory(string name, UnixFileMode mode = DefaultDirMode) =>
        Add(NewEntry(TarEntryType.Directory, name, mode));

    public TarBuilder File(string name, string content = "content", UnixFileMode mode = DefaultFileMode) =>
        File(name, Encoding.UTF8.GetBytes(content), mode);

    public TarBuilder File(string name, byte[] content, UnixFileMode mode = DefaultFileMode)
    {
        var entry = NewEntry(TarEntryType.RegularFile, name, mode);
        entry.DataStream = new MemoryStream(content);
        return Add(entry);
    }

    public TarBuilder Symlink(string name, string target)
    {
        var entry = NewEntry(TarEntryType.SymbolicLink, name, (UnixFileMode)0x1FF);
        entry.LinkName = target;
        return Add(entry);
    }

    public TarBuilder HardLink(string name, string target)
    {
        var entry = NewEntry(TarEntryType.HardLink, name, DefaultFileMode);
        entry.LinkName = target;
        return Add(entry);
    }

    public TarBuilder Special(TarEntryType type, string name) => Add(NewEntry(type, name, DefaultFileMode));

    public TarBuilder Add(TarEntry entry)
    {
        _writer.WriteEntry(entry);
        return this;
    }

    /// <summary>The tar with its end-of-archive marker.</summary>
    public byte[] Build()
    {
        _writer.Dispose();
        return _stream.ToArray();
    }

    public const UnixFileMode DefaultDirMode = (UnixFileMode)0x1ED; // 0755
    public const UnixFileMode DefaultFileMode = (UnixFileMode)0x1A4; // 0644

    private TarEntry NewEntry(TarEntryType type, string name, UnixFileMode mode)
    {
        TarEntry entry = Format switch
        {
            TarEntryFormat.Gnu => new GnuTarEntry(type, name),
            TarEntryFormat.Ustar => new UstarTarEntry(type, name),
            _ => new PaxTarEntry(type, name),
        };
        entry.Mode = mode;
        entry.ModificationTime = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        return entry;
    }
}

/// <summary>Raw 512-byte tar headers, for archives TarWriter refuses to write (e.g. an absolute hard-link target
/// that it would accept but a name it would normalise).</summary>
internal static class RawTar
{
    public static byte[] Header(string name, char type, long size = 0, string linkName = "", int mode = 0x1A4)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes(Convert.ToString(mode, 8).PadLeft(7, '0')).CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000").CopyTo(header, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0')).CopyTo(header, 124);
        Encoding.ASCII.GetBytes("15301734737").CopyTo(header, 136);
        header[156] = (byte)type;
        Encoding.ASCII.GetBytes(linkName).CopyTo(header, 157);
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => (int)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] EndMarker => new byte[1024];
}

internal static class Compress
{
    public static byte[] Bytes(byte[] tar, ArchiveCompression compression)
    {
        using var output = new MemoryStream();
        using (var compressor = compression.OpenCompressor(output))
        {
            compressor.Write(tar);
        }

        return output.ToArray();
    }

    public static byte[] Decompress(byte[] archive, ArchiveCompression compression)
    {
        using var input = new MemoryStream(archive);
        using var decompressor = compression.OpenDecompressor(input);
        using var output = new MemoryStream();
        decompressor.CopyTo(output);
        return output.ToArray();
    }
}

/// <summary>A scratch folder under the system temp folder, deleted with everything in it.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gp-archive-tests-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public string[] Files() => System.IO.Directory.GetFiles(Path, "*", SearchOption.AllDirectories)
        .Select(f => System.IO.Path.GetRelativePath(Path, f)).Order(StringComparer.Ordinal).ToArray();

    public void Dispose() => System.IO.Directory.Delete(Path, recursive: true);
}

/// <summary>The standard command-line tools an archive must work with; a missing one fails the test with what to
/// install, never skips it.</summary>
internal static class CommandLine
{
    private static readonly Dictionary<string, string> Packages = new()
    {
        ["zstd"] = "zstd",
        ["gzip"] = "gzip",
        ["tar"] = "tar",
        ["sha256sum"] = "coreutils",
        ["sh"] = "dash",
    };

    /// <summary>Runs <c>sh -c script</c> and returns its standard output; a non-zero exit fails the test.</summary>
    public static async Task<string> ShellAsync(string script, params string[] tools)
    {
        foreach (var tool in tools.Append("sh"))
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                .Any(dir => dir.Length > 0 && System.IO.File.Exists(System.IO.Path.Combine(dir, tool)));
            Assert.True(found, $"'{tool}' is needed by this test and is not on PATH: apt-get install {Packages[tool]} (scripts/test.sh does).");
        }

        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"`{script}` exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    /// <summary>Quotes a path for a shell script.</summary>
    public static string Quote(string path) => "'" + path.Replace("'", "'\\''") + "'";
}
