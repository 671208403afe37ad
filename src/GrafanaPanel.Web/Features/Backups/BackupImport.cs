using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups.Archive;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>An upload that cannot be imported; the message is returned with <see cref="StatusCode"/> (400 unless said).</summary>
public sealed class BackupImportRefusedException(string message, Exception? inner = null) : PanelRefusalException(message, inner);

/// <summary>
/// Imports a set uploaded as <c>multipart/form-data</c>: a part named <c>manifest</c> (the set's manifest.json) and
/// one part per archive, each with the file name its manifest records (e.g. <c>grafana_data.tar.zst</c>). The
/// parts are streamed to a hidden temporary folder under the backup directory (never held in memory), counted
/// against <see cref="BackupJobOptions.ImportMaxBytes"/>, and every archive is validated like a restore (size,
/// SHA-256, every tar entry, entry count, <see cref="ArchiveLimits"/>) within
/// <see cref="BackupOptions.ImportValidationTimeout"/> before the folder is renamed into place and listed. A
/// <c>Content-Length</c> over the backup directory's free space is refused with 507 before anything is written.
/// Anything else: refused, the temporary folder removed, nothing listed.
/// </summary>
public sealed class BackupImport(
    PanelDbContext db, BackupFolders folders, IOptions<BackupJobOptions> options, IOptions<BackupOptions> backupOptions, TimeProvider time)
{
    public async Task<BackupSet> ImportAsync(HttpRequest request, string user, CancellationToken ct)
    {
        var limit = options.Value.ImportMaxBytes;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
        {
            throw new BackupImportRefusedException("Send multipart/form-data with a 'manifest' part (manifest.json) and one part per archive file.");
        }

        if (request.ContentLength == 0)
        {
            throw new BackupImportRefusedException("The upload is empty (0 bytes).");
        }

        if (request.ContentLength > limit + 64 * 1024)
        {
            throw new BackupImportRefusedException($"The upload is {request.ContentLength} bytes; the limit (Backups:ImportMaxBytes) is {limit}.")
            {
                StatusCode = StatusCodes.Status413PayloadTooLarge,
            };
        }

        Directory.CreateDirectory(folders.Root);
        var free = new DriveInfo(folders.Root).AvailableFreeSpace;
        if (request.ContentLength > free)
        {
            throw new BackupImportRefusedException(
                $"The upload is {request.ContentLength:N0} bytes, but the backup directory {folders.Root} has only {free:N0} bytes free; " +
                "nothing was written. Free some space or point Backups__Directory at a larger disk.")
            {
                StatusCode = StatusCodes.Status507InsufficientStorage,
            };
        }

        var temp = Path.Combine(folders.Root, $".import-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var files = await ReceiveAsync(request.Body, boundary, temp, limit, ct);
            if (!files.Contains(BackupManifest.FileName))
            {
                throw new BackupImportRefusedException("The upload has no 'manifest' part (the set's manifest.json).");
            }

            BackupManifest manifest;
            try
            {
                manifest = await BackupManifest.ReadAsync(temp, ct);
            }
            catch (InvalidManifestException ex)
            {
                throw new BackupImportRefusedException(ex.Message.Replace(temp, "upload", StringComparison.Ordinal), ex);
            }

            var expected = manifest.Volumes.Select(v => v.ArchiveFile).ToHashSet(StringComparer.Ordinal);
            if (expected.FirstOrDefault(f => !files.Contains(f)) is { } absent)
            {
                throw new BackupImportRefusedException($"The manifest lists '{absent}', but no such file was uploaded.");
            }

            if (files.FirstOrDefault(f => f != BackupManifest.FileName && !expected.Contains(f)) is { } extra)
            {
                throw new BackupImportRefusedException($"'{extra}' is not an archive of this set's manifest.");
            }

            await ValidateArchivesAsync(temp, manifest, ct);

            if (await db.BackupSets.AnyAsync(s => s.Id == manifest.SetId, ct))
            {
                throw new BackupImportRefusedException($"Set {manifest.SetId} is already in the catalog.");
            }

            var folder = $"{manifest.CreatedAt.UtcDateTime:yyyyMMdd-HHmmss}-import-{manifest.SetId:N}";
            var set = BackupFolders.FromManifest(manifest, folder, BackupTrigger.Import, user);
            set.CompletedAt = time.GetUtcNow();
            Directory.Move(temp, folders.SetPath(folder));
            AtomicFile.SyncDirectory(folders.Root);
            try
            {
                db.BackupSets.Add(set);
                await db.SaveChangesAsync(ct);
            }
            catch
            {
                folders.DeleteSet(folder);
                throw;
            }

            return set;
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }
        }
    }

    /// <summary>Every archive as a restore would check it, all within <see cref="BackupOptions.ImportValidationTimeout"/>.</summary>
    private async Task ValidateArchivesAsync(string temp, BackupManifest manifest, CancellationToken ct)
    {
        var limit = backupOptions.Value.ImportValidationTimeout;
        using var timeout = new CancellationTokenSource(limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        foreach (var volume in manifest.Volumes)
        {
            try
            {
                await ArchiveVerifier.ValidateAsync(temp, manifest, volume, backupOptions.Value.Limits, linked.Token);
            }
            catch (ArchiveRejectedException ex)
            {
                throw new BackupImportRefusedException($"'{volume.ArchiveFile}' was refused: {ex.Message.Replace(temp + "/", "", StringComparison.Ordinal)}", ex);
            }
            catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                throw new BackupImportRefusedException(
                    $"Validating the upload took longer than {limit} (Backups__ImportValidationTimeout) and was stopped at '{volume.ArchiveFile}'; " +
                    "nothing was imported. Raise the setting for very large sets.", ex);
            }
        }
    }

    private static async Task<HashSet<string>> ReceiveAsync(Stream body, string boundary, string temp, long limit, CancellationToken ct)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        var reader = new MultipartReader(boundary, body) { BodyLengthLimit = null };
        var total = 0L;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                {
                    throw new BackupImportRefusedException("Every part must be a file: 'manifest' (manifest.json) or an archive.");
                }

                var field = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                var rawName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                var name = field == "manifest" ? BackupManifest.FileName : CheckFileName(rawName);
                if (!files.Add(name))
                {
                    throw new BackupImportRefusedException($"'{name}' was uploaded twice.");
                }

                var written = 0L;
                await using (var file = new FileStream(Path.Combine(temp, name), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    var buffer = new byte[1 << 16];
                    int read;
                    while ((read = await section.Body.ReadAsync(buffer, ct)) > 0)
                    {
                        total += read;
                        written += read;
                        if (total > limit)
                        {
                            throw new BackupImportRefusedException($"The upload is larger than the limit (Backups:ImportMaxBytes) of {limit} bytes.")
                            {
                                StatusCode = StatusCodes.Status413PayloadTooLarge,
                            };
                        }

                        await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    }
                }

                if (written == 0)
                {
                    throw new BackupImportRefusedException($"'{name}' is empty (0 bytes).");
                }
            }
        }
        catch (IOException ex) when (ex.HResult == 28)
        {
            // ENOSPC: an upload without a Content-Length (or a longer body than it said) filled the disk.
            throw new BackupImportRefusedException(
                $"The backup directory ran out of space after {total:N0} bytes of the upload; nothing was imported and the partial upload was removed.", ex)
            {
                StatusCode = StatusCodes.Status507InsufficientStorage,
            };
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or BadHttpRequestException)
        {
            throw new BackupImportRefusedException($"The upload was cut off or malformed: {ex.Message}", ex);
        }

        if (files.Count == 0)
        {
            throw new BackupImportRefusedException("The upload is empty.");
        }

        return files;
    }

    private static string CheckFileName(string name)
    {
        if (name.Contains('\0') || name.Contains('\n') || name.Contains('\r'))
        {
            throw new BackupImportRefusedException("A file name holds a NUL or line break; refused.");
        }

        if (!BackupFolders.IsPlain(name) || name.Contains("..", StringComparison.Ordinal) || name.StartsWith('.'))
        {
            throw new BackupImportRefusedException($"'{name}' is not a plain archive file name (no folders, no '..').");
        }

        if (ArchiveCompressionStreams.FromFileName(name) is null)
        {
            throw new BackupImportRefusedException($"'{name}' is not an archive name ending in .tar.zst or .tar.gz.");
        }

        return name;
    }
}
