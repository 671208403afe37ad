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
        app.MapGet("/backups/{setId:guid}/{volume}", (
            HttpContext http, Guid setId, string volume,
            [FromServices] RoleGate gate, [FromServices] PanelDbContext db, [FromServices] BackupFolders folders, [FromServices] IAuditLog audit) =>
            DownloadAsync(http, setId, volume, gate, db, folders, audit, asProblem: false)).RequireAuthorization();

        // Import a set: multipart/form-data with 'manifest' (manifest.json) and one file part per archive. For scripts
        // (curl -F); no antiforgery token: Grafana on another port of the same host is the same site, so its pages do
        // send the sign-in cookie, and it is the cross-origin guard (X-GrafanaPanel-Request, Origin) that refuses them.
        app.MapPost("/backups/import", (
            HttpContext http, [FromServices] RoleGate gate, [FromServices] BackupImport import, [FromServices] IAuditLog audit,
            [FromServices] IOptions<BackupJobOptions> options) =>
            ImportAsync(http, gate, import, audit, options, asProblem: false)).RequireAuthorization().DisableAntiforgery();
    }

    /// <summary>
    /// One volume's archive of a completed set (also <c>GET /api/v1/backups/sets/{setId}/volumes/{volume}/archive</c>,
    /// which answers refusals as problem details: <paramref name="asProblem"/>).
    /// </summary>
    public static async Task<IResult> DownloadAsync(
        HttpContext http, Guid setId, string volume, RoleGate gate, PanelDbContext db, BackupFolders folders, IAuditLog audit, bool asProblem)
    {
        if (await AllowedAsync(gate, http, audit, BackupAuditActions.Download, $"{setId} {volume}", asProblem) is not { } user)
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        var set = await db.BackupSets.AsNoTracking().Include(s => s.Volumes).FirstOrDefaultAsync(s => s.Id == setId, http.RequestAborted);
        var archive = set?.Volumes.FirstOrDefault(v => v.VolumeName == volume);
        if (set is not { Status: BackupSetStatus.Completed } || archive is null || archive.FileName.Length == 0)
        {
            return NotFound("No completed backup set holds that volume.", asProblem);
        }

        var path = folders.ArchivePath(set.Folder, archive.FileName);
        if (!File.Exists(path))
        {
            return NotFound("The archive is missing from the backup directory; run a rescan.", asProblem);
        }

        await audit.RecordAsync(new AuditRecord(user.Email ?? "unknown", BackupAuditActions.Download, $"{setId} {volume}", true));
        var type = archive.FileName.EndsWith(".gz", StringComparison.Ordinal) ? "application/gzip" : "application/zstd";
        return Results.File(path, type, archive.FileName, enableRangeProcessing: true);
        // Signed in (anonymous: to the sign-in page); the role is checked in the handler against the database, so
        // a Viewer, or a user demoted since signing in, gets a plain 403 rather than the access-denied page.
    }

    /// <summary>Imports an uploaded set (also <c>POST /api/v1/backups/import</c>, refusals as problem details).</summary>
    public static async Task<IResult> ImportAsync(
        HttpContext http, RoleGate gate, BackupImport import, IAuditLog audit, IOptions<BackupJobOptions> options, bool asProblem)
    {
        if (await AllowedAsync(gate, http, audit, BackupAuditActions.Import, "upload", asProblem) is not { } user)
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
            return asProblem
                ? TypedResults.Problem(ex.Message, statusCode: ex.StatusCode, title: "Import refused")
                : Results.Json(new { error = ex.Message }, statusCode: ex.StatusCode);
        }
    }

    private static IResult NotFound(string detail, bool asProblem) =>
        asProblem ? TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found") : Results.NotFound(detail);

    /// <summary>
    /// The role as the database says now (a user demoted since signing in is refused at once); a refusal is written to
    /// the audit log, and for the API thrown, so that its problem names the role needed.
    /// </summary>
    private static async Task<PanelUser?> AllowedAsync(RoleGate gate, HttpContext http, IAuditLog audit, string action, string target, bool asProblem)
    {
        try
        {
            return await gate.RequireAsync(http.User, PanelRoles.Instructor, http.RequestAborted);
        }
        catch (PanelAccessDeniedException ex)
        {
            // Not the request's token: a refusal must leave its trace even when the caller has gone.
            var who = http.User.Identity?.Name is { Length: > 0 } name ? name : "anonymous";
            await audit.RecordAsync(new AuditRecord(who, action, target, false, ex.Message), CancellationToken.None);
            if (asProblem)
            {
                throw;
            }

            return null;
        }
    }
}
