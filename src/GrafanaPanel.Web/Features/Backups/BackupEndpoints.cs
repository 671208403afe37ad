using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>The backup feature's HTTP endpoints for scripts and the browser: download of one archive, import of a set.</summary>
public static class BackupEndpoints
{
    public static void MapBackupEndpoints(this IEndpointRouteBuilder app)
    {
        // Download one volume's archive of a set: the names are looked up in the catalog, and only the catalog's
        // folder and file names (checked as plain names) make the path.
        app.MapGet("/backups/{setId:guid}/{volume}", async (
            HttpContext http, Guid setId, string volume,
            [FromServices] RoleGate gate, [FromServices] PanelDbContext db, [FromServices] BackupFolders folders, [FromServices] IAuditLog audit) =>
        {
            if (await AllowedAsync(gate, http) is not { } user)
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            var set = await db.BackupSets.AsNoTracking().Include(s => s.Volumes).FirstOrDefaultAsync(s => s.Id == setId, http.RequestAborted);
            var archive = set?.Volumes.FirstOrDefault(v => v.VolumeName == volume);
            if (set is not { Status: BackupSetStatus.Completed } || archive is null || archive.FileName.Length == 0)
            {
                return Results.NotFound("No completed backup set holds that volume.");
            }

            var path = folders.ArchivePath(set.Folder, archive.FileName);
            if (!File.Exists(path))
            {
                return Results.NotFound("The archive is missing from the backup directory; run a rescan.");
            }

            await audit.RecordAsync(new AuditRecord(user.Email ?? "unknown", BackupAuditActions.Download, $"{setId} {volume}", true));
            var type = archive.FileName.EndsWith(".gz", StringComparison.Ordinal) ? "application/gzip" : "application/zstd";
            return Results.File(path, type, archive.FileName, enableRangeProcessing: true);
            // Signed in (anonymous: to the sign-in page); the role is checked in the handler against the database, so
            // a Viewer, or a user demoted since signing in, gets a plain 403 rather than the access-denied page.
        }).RequireAuthorization();

        // Import a set: multipart/form-data with 'manifest' (manifest.json) and one file part per archive. For scripts
        // (curl -F); no antiforgery token: Grafana on another port of the same host is the same site, so its pages do
        // send the sign-in cookie, and it is the cross-origin guard (X-GrafanaPanel-Request, Origin) that refuses them.
        app.MapPost("/backups/import", async (
            HttpContext http, [FromServices] RoleGate gate, [FromServices] BackupImport import, [FromServices] IAuditLog audit,
            [FromServices] IOptions<BackupJobOptions> options) =>
        {
            if (await AllowedAsync(gate, http) is not { } user)
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            var name = user.Email ?? "unknown";
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                // Our own limit is counted while streaming; the server's must not cut in first.
                size.MaxRequestBodySize = options.Value.ImportMaxBytes + 1024 * 1024;
            }

            try
            {
                var set = await import.ImportAsync(http.Request, name, http.RequestAborted);
                await audit.RecordAsync(new AuditRecord(name, BackupAuditActions.Import, set.Id.ToString(), true));
                return Results.Json(new { set.Id, set.Folder, Volumes = set.Volumes.Select(v => v.VolumeName) });
            }
            catch (BackupImportRefusedException ex)
            {
                await audit.RecordAsync(new AuditRecord(name, BackupAuditActions.Import, "upload", false, ex.Message));
                return Results.Json(new { error = ex.Message }, statusCode: ex.StatusCode);
            }
        }).RequireAuthorization().DisableAntiforgery();
    }

    /// <summary>The role as the database says now (a user demoted since signing in is refused at once).</summary>
    private static async Task<PanelUser?> AllowedAsync(RoleGate gate, HttpContext http)
    {
        try
        {
            return await gate.RequireAsync(http.User, PanelRoles.Instructor, http.RequestAborted);
        }
        catch (PanelAccessDeniedException)
        {
            return null;
        }
    }
}
