using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>The body of <c>POST /api/v1/backups/sets</c>.</summary>
/// <param name="Mode">pause (default), stop or hot.</param>
public sealed record BackupApiRequest(IReadOnlyList<string>? Volumes, string? Mode);

/// <summary>The body of <c>POST /api/v1/backups/sets/{id}/restore</c>: the whole set, some volumes, or one volume into a new one.</summary>
public sealed record RestoreApiRequest(IReadOnlyList<string>? Volumes, string? IntoNewVolume);

/// <summary>The body of a backup schedule (create and replace).</summary>
public sealed record BackupScheduleRequest(
    string? Name, IReadOnlyList<string>? Volumes, string? Cron, string? TimeZone, string? Mode, int? KeepLast, int? MaxAgeDays);

/// <summary><c>/api/v1/backups</c>: the Backups page's service (sets, jobs, schedules), its download and import.</summary>
public static class BackupsApiEndpoints
{
    public static string SetLocation(Guid setId) => $"{ApiRoutes.Prefix}/backups/sets/{setId}";

    public static void MapBackupsApi(this RouteGroupBuilder v1)
    {
        var backups = v1.MapGroup("/backups").WithTags("Backups");
        backups.MapGet("/sets", async Task<Results<Ok<List<BackupSet>>, ValidationProblem>> (
                [FromQuery] string? status, [FromQuery] string? volume, [FromQuery] string? trigger, [FromQuery] bool? pinned,
                [FromServices] IBackupService service, CancellationToken ct) =>
            {
                IEnumerable<BackupSet> sets = await service.ListSetsAsync(ct);
                if (status is not null)
                {
                    if (!TryParse<BackupSetStatus>(status, out var wanted))
                    {
                        return Invalid<BackupSetStatus>("status", status);
                    }

                    sets = sets.Where(s => s.Status == wanted);
                }

                if (trigger is not null)
                {
                    if (!TryParse<BackupTrigger>(trigger, out var wanted))
                    {
                        return Invalid<BackupTrigger>("trigger", trigger);
                    }

                    sets = sets.Where(s => s.Trigger == wanted);
                }

                if (volume is not null)
                {
                    sets = sets.Where(s => s.Volumes.Any(v => v.VolumeName == volume));
                }

                if (pinned is { } p)
                {
                    sets = sets.Where(s => s.Pinned == p);
                }

                return TypedResults.Ok(sets.ToList());
            })
            .WithSummary("Backup sets, newest first; filter by status, trigger, volume, pinned");

        backups.MapGet("/sets/{id:guid}", async Task<Results<Ok<BackupSet>, ProblemHttpResult>> (Guid id, [FromServices] IBackupService service, CancellationToken ct) =>
                await FindAsync(service, id, ct) is { } set ? TypedResults.Ok(set) : NoSuchSet())
            .WithSummary("One backup set with its volumes");

        backups.MapPost("/sets", async Task<Results<Accepted<BackupSet>, ValidationProblem>> (
                BackupApiRequest? body, [FromServices] IBackupService service, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits a Viewer), then the fields.
                var volumes = body?.Volumes ?? [];
                var mode = BackupMode.Pause;
                if (await service.CanManageAsync())
                {
                    if (volumes.Count == 0)
                    {
                        return ApiProblems.Field("volumes", $"Name at least one volume: {string.Join(", ", service.AvailableVolumes())}.");
                    }

                    if (volumes.FirstOrDefault(v => !service.AvailableVolumes().Contains(v)) is { } unknown)
                    {
                        return ApiProblems.Field("volumes", $"\"{Stack.StackControl.Printable(unknown)}\" is not a lab volume; choose from {string.Join(", ", service.AvailableVolumes())}.");
                    }

                    if (body?.Mode is not null && !TryParse(body.Mode, out mode))
                    {
                        return Invalid<BackupMode>("mode", body.Mode);
                    }
                }

                var id = await service.CreateBackupAsync(volumes, mode, ct);
                return TypedResults.Accepted(OperationEndpoints.BackupLocation(id), await FindAsync(service, id, ct));
            })
            .WithSummary("Back up volumes now (Instructor): 202 with the operation in Location");

        backups.MapPost("/sets/{id:guid}/verify", async Task<Results<Accepted, ProblemHttpResult>> (
                Guid id, [FromQuery] bool? testRestore, [FromServices] IBackupService service, [FromServices] TimeProvider time, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits a Viewer), then 404 for an unknown set.
                if (await service.CanManageAsync() && await FindAsync(service, id, ct) is null)
                {
                    return NoSuchSet();
                }

                var since = time.GetUtcNow();
                await service.VerifyAsync(id, testRestore ?? false, ct);
                return TypedResults.Accepted(OperationEndpoints.SetJobLocation(testRestore == true ? "test-restore" : "verify", id, since));
            })
            .WithSummary("Verify a set (hashes and every tar entry), or test-restore it into a scratch volume (Instructor)");

        backups.MapPost("/verify-all", async ([FromServices] IBackupService service, [FromServices] RoleGate gate, [FromServices] IAuditLog audit, CancellationToken ct) =>
            {
                // Checked once for the whole batch (also when there is no set), then each set as the page verifies it.
                await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, BackupAuditActions.Verify, "all sets", ct);
                var sets = (await service.ListSetsAsync(ct)).Where(s => s.Status == BackupSetStatus.Completed).ToList();
                foreach (var set in sets)
                {
                    await service.VerifyAsync(set.Id, testRestore: false, ct);
                }

                return TypedResults.Accepted($"{ApiRoutes.Prefix}/backups/sets", new { queued = sets.Select(s => s.Id) });
            })
            .RequireRateLimiting(ApiOptions.ExpensivePolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Verify every completed set (Instructor; rate-limited per token)");

        backups.MapPost("/sets/{id:guid}/restore", async Task<Results<Accepted, ProblemHttpResult>> (
                Guid id, RestoreApiRequest? body, [FromServices] IBackupService service, [FromServices] TimeProvider time, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits a Viewer), then 404 for an unknown set.
                if (await service.CanManageAsync() && await FindAsync(service, id, ct) is null)
                {
                    return NoSuchSet();
                }

                var since = time.GetUtcNow();
                await service.RestoreAsync(id, body?.Volumes is { Count: > 0 } v ? v : null, string.IsNullOrWhiteSpace(body?.IntoNewVolume) ? null : body.IntoNewVolume, ct);
                return TypedResults.Accepted(OperationEndpoints.SetJobLocation("restore", id, since));
            })
            .WithSummary("Restore the set, some of its volumes, or one volume into a new volume (Instructor); a safety backup is taken first");

        backups.MapDelete("/sets/{id:guid}", async (Guid id, [FromServices] IBackupService service, CancellationToken ct) =>
            {
                await service.DeleteAsync(id, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Delete a set (Instructor); pinned sets, baselines and the newest verified set are refused");

        backups.MapPut("/sets/{id:guid}/pin", async (Guid id, [FromServices] IBackupService service, CancellationToken ct) =>
            {
                await service.SetPinnedAsync(id, true, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Pin a set: retention never deletes it (Instructor)");
        backups.MapDelete("/sets/{id:guid}/pin", async (Guid id, [FromServices] IBackupService service, CancellationToken ct) =>
            {
                await service.SetPinnedAsync(id, false, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Unpin a set (Instructor)");

        backups.MapGet("/sets/{id:guid}/volumes/{volume}/archive", (
                HttpContext http, Guid id, string volume,
                [FromServices] RoleGate gate, [FromServices] PanelDbContext db, [FromServices] BackupFolders folders, [FromServices] IAuditLog audit) =>
                BackupEndpoints.DownloadAsync(http, id, volume, gate, db, folders, audit, asProblem: true))
            .Produces(StatusCodes.Status200OK, contentType: "application/zstd")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Download one volume's archive (Instructor)");

        backups.MapPost("/import", (
                HttpContext http, [FromServices] RoleGate gate, [FromServices] BackupImport import, [FromServices] IAuditLog audit,
                [FromServices] IOptions<BackupJobOptions> options) =>
                BackupEndpoints.ImportAsync(http, gate, import, audit, options, asProblem: true))
            .Accepts<IFormFile>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Import a set: multipart with 'manifest' and one part per archive (Instructor); 413 over Backups:ImportMaxBytes");

        backups.MapPost("/rescan", async ([FromServices] IBackupService service, [FromServices] TimeProvider time, CancellationToken ct) =>
            {
                var since = time.GetUtcNow();
                await service.RescanAsync(ct);
                return TypedResults.Accepted(OperationEndpoints.RescanLocation(since));
            })
            .WithSummary("Reconcile the catalog with the backup directory (Instructor)");

        MapSchedules(backups);
    }

    private static void MapSchedules(RouteGroupBuilder backups)
    {
        var schedules = backups.MapGroup("/schedules").WithTags("Backup schedules");
        schedules.MapGet("/", async ([FromServices] IBackupService service, CancellationToken ct) => TypedResults.Ok(await service.ListSchedulesAsync(ct)))
            .WithSummary("Backup schedules");
        schedules.MapPost("/", async Task<Results<Created, ValidationProblem>> (BackupScheduleRequest? body, [FromServices] IBackupService service, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits a Viewer, whatever the body), then the fields.
                if (await service.CanManageAsync() && ScheduleProblem(body) is { } problem)
                {
                    return problem;
                }

                var id = await service.CreateScheduleAsync(InputOf(body), ct);
                return TypedResults.Created($"{ApiRoutes.Prefix}/backups/schedules/{id}");
            })
            .WithSummary("Create a schedule (Instructor)");
        schedules.MapPut("/{id:guid}", async Task<Results<NoContent, ValidationProblem>> (Guid id, BackupScheduleRequest? body, [FromServices] IBackupService service, CancellationToken ct) =>
            {
                if (await service.CanManageAsync() && ScheduleProblem(body) is { } problem)
                {
                    return problem;
                }

                await service.UpdateScheduleAsync(id, InputOf(body), ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Replace a schedule (Instructor)");
        schedules.MapScheduleActions<IBackupService>("a schedule", (service, id, ct) => service.DeleteScheduleAsync(id, ct),
            (service, id, paused, ct) => service.SetPausedAsync(id, paused, ct), (service, id, ct) => service.RunScheduleNowAsync(id, ct),
            $"{ApiRoutes.Prefix}/backups/sets?trigger=scheduled");
        schedules.MapPost("/{id:guid}/retention", async (Guid id, [FromServices] IBackupService service, CancellationToken ct) =>
                TypedResults.Ok(new { deleted = await service.ApplyRetentionAsync(id, ct) }))
            .WithSummary("Apply the schedule's retention now (Instructor): the ids of the sets it deleted");
    }

    private static ValidationProblem? ScheduleProblem(BackupScheduleRequest? body)
    {
        if (string.IsNullOrWhiteSpace(body?.Name))
        {
            return ApiProblems.Field("name", "A schedule needs a name.");
        }

        if (body.Volumes is not { Count: > 0 })
        {
            return ApiProblems.Field("volumes", "Name at least one volume.");
        }

        if (string.IsNullOrWhiteSpace(body.Cron))
        {
            return ApiProblems.Field("cron", "A schedule needs a cron expression, e.g. \"0 2 * * *\".");
        }

        if (body.Mode is not null && !TryParse<BackupMode>(body.Mode, out _))
        {
            return Invalid<BackupMode>("mode", body.Mode);
        }

        if (body.MaxAgeDays is < 1)
        {
            return ApiProblems.Field("maxAgeDays", "maxAgeDays must be 1 or more (or left out).");
        }

        return null;
    }

    /// <summary>The schedule the body asks for; checked by <see cref="ScheduleProblem"/> only for a caller who may manage schedules.</summary>
    private static ScheduleInput InputOf(BackupScheduleRequest? body)
    {
        var mode = body?.Mode is not null && TryParse<BackupMode>(body.Mode, out var parsed) ? parsed : BackupMode.Pause;
        return new ScheduleInput(body?.Name ?? "", body?.Volumes ?? [], body?.Cron ?? "", body?.TimeZone ?? "UTC", mode, body?.KeepLast,
            body?.MaxAgeDays is { } days ? TimeSpan.FromDays(days) : null);
    }

    private static async Task<BackupSet?> FindAsync(IBackupService service, Guid id, CancellationToken ct) =>
        (await service.ListSetsAsync(ct)).FirstOrDefault(s => s.Id == id);

    private static ProblemHttpResult NoSuchSet() => ApiProblems.NotFound("No backup set has that id.");

    private static bool TryParse<T>(string name, out T value)
        where T : struct, Enum
    {
        try
        {
            value = Vocabulary.Parse<T>(name);
            return true;
        }
        catch (InvalidDataException)
        {
            value = default;
            return false;
        }
    }

    private static ValidationProblem Invalid<T>(string field, string value)
        where T : struct, Enum =>
        ApiProblems.Field(field, $"\"{Stack.StackControl.Printable(value)}\" is not a valid {field}; use one of {string.Join(", ", Enum.GetValues<T>().Select(v => Vocabulary.Name(v)))}.");
}
