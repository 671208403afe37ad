using System.Formats.Tar;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>
/// A throwaway lab for the backup engine: a labelled test project on the real daemon, a snapshot read from it, a
/// temporary backup directory, and the runner under test. The docker CLI arranges and checks; the runner acts.
/// </summary>
public sealed class BackupRig : IAsyncDisposable
{
    // Folders with modes and owners, a file with an owner, a symlink inside, a relative symlink across folders,
    // a hard link, empty folders, a sticky folder, 2,000 small files.
    private const string SeedScript = """
        set -e
        cd /d
        mkdir -p a/b/empty c many
        echo hello > a/hello.txt
        chmod 640 a/hello.txt
        chown 1000:2000 a/hello.txt
        ln -s hello.txt a/link
        ln -s ../a/hello.txt c/uplink
        ln a/hello.txt c/hard
        chmod 700 a/b
        chown 33:33 a/b/empty
        mkdir -m 1777 sticky
        printf 'x%.0s' $(seq 1 3000) > sticky/long.txt
        chown 1234:1234 sticky/long.txt
        i=0
        while [ $i -lt 2000 ]; do echo "file $i" > many/f$i; i=$((i+1)); done
        """;

    // Names, modes, owners, link counts and types; symlink targets; content hashes of every file.
    private const string FingerprintScript = """
        cd /d
        find . | sort | xargs stat -c '%n %a %u %g %h %F'
        for l in $(find . -type l | sort); do echo "$l -> $(readlink $l)"; done
        find . -type f | sort | xargs md5sum
        """;

    private BackupRig(TestProject project, DockerEngine engine, string directory)
    {
        Project = project;
        Engine = engine;
        Directory = directory;
        Snapshot = new StackSnapshot(Options.Create(new StackOptions { ProjectName = project.Name }), TimeProvider.System);
        Lock = new StackLock();
    }

    public TestProject Project { get; }

    public DockerEngine Engine { get; }

    public string Directory { get; }

    public StackSnapshot Snapshot { get; }

    public StackLock Lock { get; }

    public BackupOptions DefaultOptions => new() { Directory = Directory, HelperImage = TestProject.Image, FreeSpaceMarginBytes = 0 };

    public static async Task<BackupRig> CreateAsync()
    {
        await TestProject.EnsureImageAsync();
        return new BackupRig(new TestProject(), DockerCli.CreateEngine(), System.IO.Directory.CreateTempSubdirectory("gp-backups-").FullName);
    }

    public BackupRunner Runner(IRestoredVolumeCheck? check = null, BackupOptions? options = null) =>
        new(Engine, Snapshot, Lock, Options.Create(options ?? DefaultOptions), Options.Create(new StackOptions { ProjectName = Project.Name }),
            TimeProvider.System, NullLogger<BackupRunner>.Instance, check);

    /// <summary>A plain backup of one volume through the runner under test.</summary>
    public Task<BackupOutcome> BackupAsync(string volume, BackupMode mode, ArchiveCompression compression = ArchiveCompression.Zstd) =>
        Runner().BackupAsync(new BackupRequest(Guid.NewGuid(), [volume], mode, compression, BackupTrigger.Manual), null, CancellationToken.None);

    /// <summary>Flips one bit of the set's first archive, as a bad disk would.</summary>
    public static async Task FlipBitAsync(BackupOutcome backup, Index at, byte mask)
    {
        var archive = Path.Combine(backup.Folder, backup.Manifest.Volumes[0].ArchiveFile);
        var bytes = await File.ReadAllBytesAsync(archive);
        bytes[at] ^= mask;
        await File.WriteAllBytesAsync(archive, bytes);
    }

    public BackupRecovery Recovery() =>
        new(Engine, Runner(), Options.Create(DefaultOptions), Options.Create(new StackOptions { ProjectName = Project.Name }), NullLogger<BackupRecovery>.Instance);

    /// <summary>The stack as the monitor would see it now.</summary>
    public async Task RefreshAsync() => Snapshot.ReplaceContainers(await Engine.ListContainersAsync(Project.Name, CancellationToken.None));

    /// <summary>A volume of the project with a service "<paramref name="service"/>" running on it (at /data).</summary>
    public async Task<(string Volume, string Container)> VolumeWithServiceAsync(string key, string service, bool bigFile = false, params string[] extraOptions)
    {
        var volume = await Project.CreateVolumeAsync(key);
        await SeedAsync(volume, bigFile);
        // sleep as PID 1 ignores SIGTERM; KILL spares each stop the 30 s grace period without changing what is tested.
        var container = await Project.RunAsync(service, ["--stop-signal", "KILL", "-v", $"{volume}:/data", .. extraOptions], "sleep", "600");
        await TestProject.WaitForStatusAsync(container, "running");
        await RefreshAsync();
        return (volume, container);
    }

    public static Task SeedAsync(string volume, bool bigFile) =>
        InVolumeAsync(volume, SeedScript + (bigFile ? "\nhead -c 52428800 /dev/urandom > big.bin\n" : ""));

    public static Task<string> FingerprintAsync(string volume) => InVolumeAsync(volume, FingerprintScript, readOnly: true);

    /// <summary>A fingerprint without the top folder's own line, to compare a folder's content with a volume's.</summary>
    public static string BelowTop(string fingerprint) =>
        string.Join('\n', fingerprint.Split('\n').Where(line => !line.StartsWith(". ", StringComparison.Ordinal)));

    /// <summary>The fingerprint of one folder of the volume, as if it were the volume's top.</summary>
    public static Task<string> FingerprintAsync(string volume, string folder) =>
        InVolumeAsync(volume, FingerprintScript.Replace("cd /d\n", $"cd '/d/{folder}'\n", StringComparison.Ordinal), readOnly: true);

    /// <summary>
    /// A new set in <paramref name="directory"/> holding <paramref name="backup"/>'s one volume with a setuid file
    /// appended after its last entry, written and recorded (size, SHA-256, counts) the way a backup would be: an
    /// intact archive whose tar breaks a rule only near its end. Returns the set's folder.
    /// </summary>
    public static async Task<string> WithSetuidFileAtTheEndAsync(BackupOutcome backup, string directory)
    {
        var volume = Assert.Single(backup.Manifest.Volumes);
        var tar = new MemoryStream();
        await using (var file = File.OpenRead(Path.Combine(backup.Folder, volume.ArchiveFile)))
        await using (var decompressed = backup.Manifest.Compression.OpenDecompressor(file))
        {
            await decompressed.CopyToAsync(tar);
        }

        // Where the last entry's data ends (the end-of-archive marker starts there): read unseekably, the reader stops
        // right after each header.
        tar.Position = 0;
        var dataEnd = 0L;
        var counting = new CountingReadStream(tar);
        await using (var reader = new TarReader(counting, leaveOpen: true))
        {
            while (await reader.GetNextEntryAsync() is { } entry)
            {
                dataEnd = counting.BytesRead + ((entry.Length + 511) / 512 * 512);
            }
        }

        var unsafeTar = new MemoryStream();
        unsafeTar.Write(tar.GetBuffer().AsSpan(0, (int)dataEnd));
        await using (var writer = new TarWriter(unsafeTar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new UstarTarEntry(TarEntryType.RegularFile, $"{volume.RootName}/zz-setuid")
            {
                Mode = UnixFileMode.SetUser | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                DataStream = new MemoryStream("#!/bin/sh\n"u8.ToArray()),
            });
        }

        var setId = Guid.NewGuid();
        var folder = System.IO.Directory.CreateDirectory(Path.Combine(directory, $"20260101-000000-{setId.ToString("N")[..8]}")).FullName;
        unsafeTar.Position = 0;
        var written = await ArchiveWriter.WriteAsync(unsafeTar, Path.Combine(folder, volume.ArchiveFile),
            new ArchiveWriteOptions { Compression = backup.Manifest.Compression }, CancellationToken.None);
        var manifest = backup.Manifest with { SetId = setId, Volumes = [ManifestVolume.FromArchive(volume.Name, written, volume.Images, volume.Services)] };
        await manifest.WriteAsync(folder, CancellationToken.None);
        return folder;
    }

    /// <summary>Changes the volume so a restore has something to undo.</summary>
    public static Task ScribbleAsync(string volume) =>
        InVolumeAsync(volume, "cd /d && rm -rf many a/b && echo changed > a/hello.txt && echo new > added.txt && mkdir -p extra/deep");

    public static Task<string> InVolumeAsync(string volume, string script, bool readOnly = false) =>
        DockerCli.RunAsync("run", "--rm", "--network", "none", "-v", $"{volume}:/d{(readOnly ? ":ro" : "")}", TestProject.Image, "sh", "-c", script);

    public static Task<string> StateAsync(string container) => DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", container);

    public static Task<string> StartedAtAsync(string container) => DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", container);

    public Task<string> HelpersLeftAsync() =>
        DockerCli.RunAsync("ps", "-aq", "--filter", "label=grafana-panel.helper=true", "--filter", $"label={ContainerRecord.ProjectLabel}={Project.Name}");

    /// <summary>Every file under the backup directory, relative, sorted.</summary>
    public IReadOnlyList<string> FilesOnDisk() =>
        [.. System.IO.Directory.EnumerateFileSystemEntries(Directory, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Directory, p)).Order(StringComparer.Ordinal)];

    public async ValueTask DisposeAsync()
    {
        Engine.Dispose();
        await Project.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>Progress reported on the engine's own thread, so a test can act at an exact point of a copy.</summary>
public sealed class SyncProgress(Action<BackupProgress> report) : IProgress<BackupProgress>
{
    public void Report(BackupProgress value) => report(value);
}

/// <summary>An unseekable view of a stream that counts what was read from it.</summary>
internal sealed class CountingReadStream(Stream inner) : GrafanaPanel.Web.ReadOnlyStream
{
    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted(await inner.ReadAsync(buffer, cancellationToken));

    private int Counted(int read)
    {
        BytesRead += read;
        return read;
    }
}
