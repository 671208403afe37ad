using System.Buffers;
using System.IO.Pipelines;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// Uploads a checked archive's tar and validates it in the same read: one task reads the file (hashing it again) and
/// decompresses it, and hands every chunk to two pipes, one read by the upload (Docker's <c>PUT archive</c>), one by
/// <see cref="TarSafetyValidator"/> with the manifest's root, limits and counts. The two run side by side and the
/// slower one sets the pace. Any refusal stops the upload at once (its request is cancelled), but the daemon may have
/// written what it had received, unsafe entry included: the caller removes the new content on any failure.
/// </summary>
public static class ArchiveUpload
{
    private const int ReadChunk = 1 << 20;

    private static readonly PipeOptions Buffering = new(pauseWriterThreshold: 8 * ReadChunk, resumeWriterThreshold: 4 * ReadChunk,
        minimumSegmentSize: ReadChunk / 4, useSynchronizationContext: false);

    /// <summary>
    /// Calls <paramref name="upload"/> with the decompressed tar and returns the archive with the summary of what was
    /// uploaded. Throws, in this order of precedence: <see cref="OperationCanceledException"/> when
    /// <paramref name="ct"/> was cancelled; <see cref="ArchiveIntegrityException"/> when the file changed since it was
    /// checked or the tar's counts are not the manifest's; <see cref="UnsafeArchiveException"/> for an unsafe entry;
    /// otherwise what made the read or the upload fail.
    /// </summary>
    public static async Task<ValidatedArchive> UploadAsync(
        CheckedArchive archive, Func<Stream, CancellationToken, Task> upload, Action<long>? onBytes, CancellationToken ct)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var toUpload = new Pipe(Buffering);
        var toCheck = new Pipe(Buffering);
        var options = TarSafetyOptions.ForManifestVolume(archive.Volume, archive.Limits);

        var reading = Task.Run(() => Stop(abort, () => ReadIntoAsync(archive, toUpload.Writer, toCheck.Writer, onBytes, abort.Token)), CancellationToken.None);
        var checking = Task.Run(() => Stop(abort, async () =>
        {
            try
            {
                await using var tar = toCheck.Reader.AsStream(leaveOpen: true);
                return await TarSafetyValidator.ValidateAsync(tar, options, abort.Token);
            }
            finally
            {
                await toCheck.Reader.CompleteAsync();
            }
        }), CancellationToken.None);
        var uploading = Task.Run(() => Stop(abort, async () =>
        {
            try
            {
                await using var tar = toUpload.Reader.AsStream(leaveOpen: true);
                await upload(tar, abort.Token);
                return true;
            }
            finally
            {
                // The daemon may stop reading at the tar's end marker; the read goes on for the validator and the hash.
                await toUpload.Reader.CompleteAsync();
            }
        }), CancellationToken.None);

        try
        {
            await Task.WhenAll(reading, checking, uploading);
        }
        catch (Exception)
        {
            ct.ThrowIfCancellationRequested();
            throw FirstCause(reading, checking, uploading);
        }

        var summary = await checking;
        ArchiveVerifier.CheckCounts(archive.Path, archive.Volume, summary);
        return new ValidatedArchive(archive.Path, archive.Manifest, archive.Volume, archive.Limits, summary);
    }

    /// <summary>Runs <paramref name="work"/>; when it fails, the other two tasks are stopped too.</summary>
    private static async Task<T> Stop<T>(CancellationTokenSource abort, Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch
        {
            await abort.CancelAsync();
            throw;
        }
    }

    /// <summary>The failure that explains the others: a changed file, an unsafe entry, then whatever failed first on its own.</summary>
    private static Exception FirstCause(Task reading, Task checking, Task uploading)
    {
        Exception? Of(Task task) => task.Exception?.InnerException;
        Exception[] failures = [.. new[] { Of(reading), Of(checking), Of(uploading) }.OfType<Exception>()];
        return failures.OfType<ArchiveIntegrityException>().FirstOrDefault()
               ?? failures.OfType<UnsafeArchiveException>().FirstOrDefault()
               ?? (Exception?)failures.FirstOrDefault(e => e is not OperationCanceledException)
               ?? failures.FirstOrDefault()
               ?? new OperationCanceledException("The upload was stopped.");
    }

    /// <summary>Reads and decompresses the whole file (hashing it again), each chunk into both pipes, until its end.</summary>
    private static async Task<bool> ReadIntoAsync(CheckedArchive archive, PipeWriter upload, PipeWriter check, Action<long>? onBytes, CancellationToken ct)
    {
        var uploadOpen = true;
        var checkOpen = true;
        var spare = new byte[ReadChunk];
        try
        {
            await using (var tar = archive.OpenTar(onBytes))
            {
                while (true)
                {
                    var buffer = checkOpen ? check.GetMemory(ReadChunk) : spare;
                    var read = await tar.ReadAsync(buffer, ct);
                    if (read == 0)
                    {
                        break;
                    }

                    if (uploadOpen)
                    {
                        upload.Write(buffer.Span[..read]);
                        uploadOpen = !(await upload.FlushAsync(ct)).IsCompleted;
                    }

                    if (checkOpen)
                    {
                        check.Advance(read);
                        checkOpen = !(await check.FlushAsync(ct)).IsCompleted;
                    }
                }
            }

            await upload.CompleteAsync();
            await check.CompleteAsync();
            return true;
        }
        catch (Exception e)
        {
            await upload.CompleteAsync(e);
            await check.CompleteAsync(e);
            throw;
        }
    }
}
