using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// Writes a file so that a crash never leaves one that looks complete: the content goes to
/// <c>NAME.RANDOM.partial</c> in the target folder, is flushed to disk (fsync), renamed to its final name, and the
/// folder is fsync'd so the rename itself survives a power cut. On any failure or cancellation the temporary file
/// is deleted.
/// </summary>
public static class AtomicFile
{
    public const string PartialSuffix = ".partial";

    // Temporary files being written by this process right now; start-up cleanup leaves them alone, so a
    // cleanup that runs late (or twice) never pulls a file out from under a running backup.
    private static readonly ConcurrentDictionary<string, byte> InProgress = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates <paramref name="path"/> with what <paramref name="write"/> writes. The final name must not exist yet:
    /// an archive or manifest is written once, and refusing to replace one keeps a re-run job from overwriting a
    /// set that was already listed.
    /// </summary>
    public static async Task<T> WriteAsync<T>(string path, Func<Stream, CancellationToken, Task<T>> write, CancellationToken ct)
    {
        var finalPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(finalPath)
            ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        var tempPath = Path.Combine(
            directory, $"{Path.GetFileName(finalPath)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}{PartialSuffix}");
        if (File.Exists(finalPath))
        {
            throw new IOException($"'{finalPath}' already exists; an archive or manifest is never overwritten.");
        }

        InProgress[tempPath] = 0;
        var renamed = false;
        try
        {
            T result;
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                // The writers hand over blocks of 64 KiB and more; a FileStream buffer would only add a copy.
                BufferSize = 0,
            };
            await using (var file = new FileStream(tempPath, options))
            await using (var writeback = new EarlyWritebackStream(file))
            {
                result = await write(writeback, ct);
                ct.ThrowIfCancellationRequested();
                // fsync before the rename: otherwise a crash can leave the final name pointing at missing blocks.
                file.Flush(flushToDisk: true);
            }

            File.Move(tempPath, finalPath, overwrite: false);
            renamed = true;
            SyncDirectory(directory);
            return result;
        }
        catch
        {
            TryDelete(tempPath);
            if (renamed)
            {
                // The folder could not be synced, so the rename may not survive a crash; the caller reports a
                // failure, and a file that looks complete must not be left behind for a rescan to list.
                TryDelete(finalPath);
            }

            throw;
        }
        finally
        {
            InProgress.TryRemove(tempPath, out _);
        }
    }

    /// <summary>
    /// Deletes leftover <c>*.partial</c> files in <paramref name="directory"/> and its subfolders (a backup that
    /// was killed mid-write), except those this process is writing now. Returns the deleted paths.
    /// </summary>
    public static IReadOnlyList<string> CleanupPartials(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var deleted = new List<string>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var partial in Directory.EnumerateFiles(directory, "*" + PartialSuffix, options))
        {
            var full = Path.GetFullPath(partial);
            if (!InProgress.ContainsKey(full))
            {
                File.Delete(full);
                deleted.Add(full);
            }
        }

        return deleted;
    }

    /// <summary>
    /// Makes a rename or create in <paramref name="directory"/> durable. .NET cannot open a folder as a stream, so
    /// this opens it with libc and fsyncs the descriptor (on Linux, a folder's entries are only on disk once the
    /// folder itself is synced).
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // The portal runs on Linux; the flag values below are Linux's, and Windows has no folder fsync.
        }

        var fd = Libc.open(directory, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"Cannot open folder '{directory}' to sync it: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        try
        {
            if (Libc.fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // EINVAL: this file system cannot sync folders (some FUSE and network mounts); it offers nothing
                // stronger, so the rename is as durable as it can be made there.
                if (errno != Libc.EINVAL)
                {
                    throw new IOException($"Cannot sync folder '{directory}': {Marshal.GetPInvokeErrorMessage(errno)}");
                }
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Start-up cleanup removes what a failed delete leaves; the original failure is what the caller needs.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    internal static class Libc
    {
        // Linux values, the same on x86-64 and arm64 (unlike O_DIRECTORY, which is why it is not used: a plain
        // read-only open of a folder is allowed and enough for fsync).
        public const int O_RDONLY = 0;
        public const int O_CLOEXEC = 0x80000;
        public const int EINVAL = 22;

        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        public const uint SYNC_FILE_RANGE_WRITE = 2;

        [DllImport("libc", SetLastError = true)]
        public static extern int sync_file_range(int fd, long offset, long nbytes, uint flags);
    }
}

/// <summary>
/// Passes writes through to the file and, every <see cref="KickEvery"/> bytes, asks Linux to start writing what
/// was written so far to disk (<c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c>, which does not wait for it). The
/// disk then works while the archive is still being compressed, and the fsync at the end has little left to
/// wait for. Durability still comes from that fsync alone; elsewhere than Linux this only passes writes through.
/// </summary>
internal sealed class EarlyWritebackStream(FileStream file) : Stream
{
    public const long KickEvery = 16 << 20;
    private long _written;
    private long _kicked;
    private bool _supported = OperatingSystem.IsLinux();

    /// <summary>How many times Linux was asked to start writing back (and accepted).</summary>
    public int Kicks { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        file.Write(buffer);
        Written(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await file.WriteAsync(buffer, cancellationToken);
        Written(buffer.Length);
    }

    public override void Flush() => file.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => file.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private void Written(int count)
    {
        _written += count;
        if (!_supported || _written - _kicked < KickEvery)
        {
            return;
        }

        var handle = file.SafeFileHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            // Only a hint: a file system that cannot do it (ENOSYS, EINVAL, ESPIPE) is simply not asked again.
            _supported = AtomicFile.Libc.sync_file_range((int)handle.DangerousGetHandle(), _kicked, _written - _kicked, AtomicFile.Libc.SYNC_FILE_RANGE_WRITE) == 0;
            Kicks += _supported ? 1 : 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        _kicked = _written;
    }
}
