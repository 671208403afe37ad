using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>Bytes and step of a running job, as the progress bar on the page shows them.</summary>
public sealed record OperationProgress(string Step, string? Volume, long Bytes, long? TotalBytes, double? Percent);

/// <summary>
/// A long-running action started through the API: <c>queued</c>, <c>running</c>, <c>succeeded</c> or <c>failed</c>,
/// its progress while it runs, and where its result is (<see cref="Resource"/>) or why it failed (<see cref="Error"/>).
/// </summary>
public sealed record Operation(string Kind, string Status, OperationProgress? Progress, string? Error, string? Resource, object? Result)
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public bool Done => Status is Succeeded or Failed;
}

/// <summary>
/// <c>/api/v1/operations/…</c>: the state of what a 202 answer pointed to, read from what the jobs themselves record
/// (the backup catalog, the reset run and its steps, the job's audit entry, the in-memory progress), so an operation
/// is never a second record that could disagree with the page.
/// </summary>
public static class OperationEndpoints
{
    public const string Path = ApiRoutes.Prefix + "/operations";

    /// <summary>The operation of a backup of set <paramref name="setId"/>.</summary>
    public static string BackupLocation(Guid setId) => $"{Path}/backups/{setId}";

    public static string ResetLocation(Guid runId) => $"{Path}/resets/{runId}";

    /// <summary>A job on a set (verify, test-restore, restore) asked for at <paramref name="since"/>: its audit entry after then ends it.</summary>
    public static string SetJobLocation(string kind, Guid setId, DateTimeOffset since) => $"{Path}/{kind}/{setId}/{since.ToUnixTimeMilliseconds()}";

    public static string RescanLocation(DateTimeOffset since) => $"{Path}/rescan/{since.ToUnixTimeMilliseconds()}";

    /// <summary>A whole-stack start, stop or restart: its job's audit entry names the operation.</summary>
    public static string StackLocation(string operationId) => $"{Path}/stack/{operationId}";

    public static void MapOperationEndpoints(this RouteGroupBuilder v1)
    {
        var operations = v1.MapGroup("/operations").WithTags("Operations");
        operations.MapGet("/backups/{setId:guid}", async Task<Results<Ok<Operation>, ProblemHttpResult>> (
                Guid setId, [FromServices] IDbContextFactory<PanelDbContext> dbs, [FromServices] BackupProgressHub progress, CancellationToken ct) =>
            {
                await using var db = await dbs.CreateDbContextAsync(ct);
                var set = await db.BackupSets.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId, ct);
                if (set is null)
                {
                    return ApiProblems.NotFound("No backup set has that id.");
                }

                var status = set.Status switch
                {
                    BackupSetStatus.Running => progress.Find(setId) is null ? Operation.Queued : Operation.Running,
                    BackupSetStatus.Completed => Operation.Succeeded,
                    _ => Operation.Failed,
                };
                return TypedResults.Ok(new Operation("backup", status, ProgressOf(progress, setId, "backup"),
                    status == Operation.Failed ? set.Error ?? Vocabulary.Display(set.Status) : null, BackupsApiEndpoints.SetLocation(setId), null));
            })
            .WithSummary("A backup: queued, running (bytes, step), succeeded (the set) or failed (why)");

        operations.MapGet("/resets/{runId:guid}", async Task<Results<Ok<Operation>, ProblemHttpResult>> (
                Guid runId, [FromServices] IResetService resets, CancellationToken ct) =>
            {
                if (await resets.GetRunAsync(runId, ct) is not { } run)
                {
                    return ApiProblems.NotFound("No reset has that id.");
                }

                var status = run.Status switch
                {
                    ResetStatus.Queued => Operation.Queued,
                    ResetStatus.Running => Operation.Running,
                    ResetStatus.Succeeded => Operation.Succeeded,
                    _ => Operation.Failed,
                };
                var step = run.Steps.OrderBy(s => s.Index).LastOrDefault();
                var stepProgress = step is null ? null : new OperationProgress(Vocabulary.Name(step.Kind), step.Target, run.Steps.Count(s => s.Status != ResetStepStatus.Running), null, null);
                return TypedResults.Ok(new Operation("reset", status, stepProgress, run.Error, $"{ApiRoutes.Prefix}/resets/{runId}", ResetsApiEndpoints.RunView(run)));
            })
            .WithSummary("A reset: its status, current step and every step so far");

        operations.MapGet("/{kind}/{setId:guid}/{since:long}", async Task<Results<Ok<Operation>, ProblemHttpResult>> (
                string kind, Guid setId, long since, [FromServices] IDbContextFactory<PanelDbContext> dbs, [FromServices] BackupProgressHub progress, CancellationToken ct) =>
            {
                var action = kind switch
                {
                    "verify" or "test-restore" => BackupAuditActions.VerifyJob,
                    "restore" => BackupAuditActions.RestoreJob,
                    _ => null,
                };
                if (action is null)
                {
                    return ApiProblems.NotFound($"There are no operations of kind \"{Stack.StackControl.Printable(kind)}\".");
                }

                var prefix = setId.ToString();
                var at = DateTimeOffset.FromUnixTimeMilliseconds(since);
                await using var db = await dbs.CreateDbContextAsync(ct);
                var entry = await db.AuditEntries.AsNoTracking()
                    .Where(e => e.Action == action && e.Target.StartsWith(prefix) && e.At >= at)
                    .OrderBy(e => e.Id).FirstOrDefaultAsync(ct);
                if (entry is not null)
                {
                    return TypedResults.Ok(new Operation(kind, entry.Succeeded ? Operation.Succeeded : Operation.Failed, null, entry.Error,
                        BackupsApiEndpoints.SetLocation(setId), new { entry.Target, entry.At }));
                }

                var running = ProgressOf(progress, setId, kind);
                return TypedResults.Ok(new Operation(kind, running is null ? Operation.Queued : Operation.Running, running, null, BackupsApiEndpoints.SetLocation(setId), null));
            })
            .WithSummary("A verification, test-restore or restore of a set: ends with the job's own audit entry");

        operations.MapGet("/rescan/{since:long}", async ([FromServices] IDbContextFactory<PanelDbContext> dbs, long since, CancellationToken ct) =>
            {
                var at = DateTimeOffset.FromUnixTimeMilliseconds(since);
                await using var db = await dbs.CreateDbContextAsync(ct);
                var entry = await db.AuditEntries.AsNoTracking().Where(e => e.Action == BackupAuditActions.RescanJob && e.At >= at)
                    .OrderBy(e => e.Id).FirstOrDefaultAsync(ct);
                return TypedResults.Ok(entry is null
                    ? new Operation("rescan", Operation.Queued, null, null, null, null)
                    : new Operation("rescan", entry.Succeeded ? Operation.Succeeded : Operation.Failed, null, entry.Error, $"{ApiRoutes.Prefix}/backups/sets", new { entry.Target }));
            })
            .WithSummary("A catalog rescan");

        operations.MapGet("/stack/{operationId:long}", async Task<Results<Ok<Operation>, ProblemHttpResult>> (
                long operationId, [FromServices] IDbContextFactory<PanelDbContext> dbs, [FromServices] JobStorage jobs,
                [FromServices] StackOperations running, CancellationToken ct) =>
            {
                var id = operationId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var suffix = StackControl.OperationSuffix(id);
                await using var db = await dbs.CreateDbContextAsync(ct);
                var entry = await db.AuditEntries.AsNoTracking().Where(e => e.Action.StartsWith("stack.") && e.Target.EndsWith(suffix))
                    .OrderBy(e => e.Id).FirstOrDefaultAsync(ct);
                var resource = $"{ApiRoutes.Prefix}/stack";
                if (entry is not null)
                {
                    return TypedResults.Ok(new Operation("stack", entry.Succeeded ? Operation.Succeeded : Operation.Failed, null, entry.Error, resource,
                        new { entry.Action, entry.At }));
                }

                // Not ended yet: Hangfire's own record of the job says whether it exists and has started.
                using var connection = jobs.GetConnection();
                var job = connection.GetJobData(id);
                if (job?.Job?.Type != typeof(StackActionJob))
                {
                    return ApiProblems.NotFound("No whole-stack operation has that id.");
                }

                if (job.State == ProcessingState.StateName)
                {
                    var server = connection.GetStateData(id)?.Data is { } processing && processing.TryGetValue("ServerId", out var name) ? name : null;
                    return TypedResults.Ok(running.IsAlive(server)
                        ? new Operation("stack", Operation.Running,
                            running.StepOf(id) is { } step ? new OperationProgress(step, null, 0, null, null) : null, null, resource, null)
                        : new Operation("stack", Operation.Failed, null,
                            "The portal stopped while this ran; it will not be run again. Check the overview and ask again if needed.", resource, null));
                }

                if (job.State == FailedState.StateName || job.State == DeletedState.StateName)
                {
                    // Ended without its audit entry: the job threw before it could write one (the database was gone).
                    var error = connection.GetStateData(id)?.Data is { } data && data.TryGetValue("ExceptionMessage", out var message)
                        ? message
                        : $"The job was {job.State.ToLowerInvariant()} before it ended.";
                    return TypedResults.Ok(new Operation("stack", Operation.Failed, null, error, resource, null));
                }

                return TypedResults.Ok(new Operation("stack", Operation.Queued, null, null, resource, null));
            })
            .WithSummary("A whole-stack start, stop or restart: running with the service it is at, ended by its audit entry");
    }

    private static OperationProgress? ProgressOf(BackupProgressHub hub, Guid setId, string kind) =>
        hub.Find(setId) is { } job && job.Kind == kind
            ? new OperationProgress(job.Step, job.Volume, job.Bytes, job.TotalBytes, job.Percent)
            : null;
}
