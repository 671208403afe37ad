using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Stack;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>A reset run and its steps, with the vocabulary's names (what <c>GET /api/v1/resets/{id}</c> answers).</summary>
public sealed record ResetRunView(
    Guid Id, string Status, string BaselineName, IReadOnlyList<string> Services, string RequestedBy, string Trigger, DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, long? DurationMs, string? Error, Guid? SafetySetId, IReadOnlyList<ResetStepView> Steps);

public sealed record ResetStepView(string Kind, string? Target, string Status, string Message, long? DurationMs);

/// <summary>The body of a baseline capture, promotion or rename.</summary>
/// <param name="SetId">For a promotion: the completed set that becomes the baseline.</param>
public sealed record BaselineRequest(string? Name, string? Description, string? ModuleId, Guid? SetId);

/// <summary>The body of <c>PUT /api/v1/resets/baselines/default</c>: a baseline's id, or null for the configured default.</summary>
public sealed record DefaultBaselineRequest(Guid? BaselineId);

/// <summary>The body of a reset schedule (create and replace); an empty baseline is the default one, "factory" empties the volumes.</summary>
public sealed record ResetScheduleRequest(string? Name, string? Cron, string? TimeZone, string? Baseline, IReadOnlyList<string>? Services, bool? SafetyBackup);

/// <summary><c>/api/v1/resets</c>: the reset dialog's service (request, status, history), baselines and reset schedules.</summary>
public static class ResetsApiEndpoints
{
    public static ResetRunView RunView(ResetRun run) => new(
        run.Id, Vocabulary.Name(run.Status), run.BaselineName, run.Services, run.RequestedBy, Vocabulary.Name(run.Trigger), run.RequestedAt,
        run.StartedAt, run.FinishedAt, run.DurationMs, run.Error, run.SafetySetId,
        [.. run.Steps.OrderBy(s => s.Index).Select(s => new ResetStepView(Vocabulary.Name(s.Kind), s.Target, Vocabulary.Name(s.Status), s.Message, s.DurationMs))]);

    /// <summary>
    /// A baseline by name as the dialog lists them: empty is the default baseline (null when that is factory),
    /// "factory" is null (empty the volumes). Shared by <c>POST /api/resets</c> and <c>/api/v1</c>. The role comes
    /// first: a name no baseline has is <c>Unknown</c> (why, for the caller) only for a caller who may reset; for anyone
    /// else it is an id no baseline has, so that the service's refusal is audited as what was asked (not as a factory
    /// reset), and the service would refuse it too.
    /// </summary>
    public static async Task<(Guid? Id, string? Unknown)> BaselineIdAsync(IResetService service, string? baseline, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(baseline))
        {
            return ((await service.DefaultBaselineAsync(ct))?.Id, null);
        }

        var name = baseline.Trim();
        if (string.Equals(name, ResetOptions.FactoryName, StringComparison.OrdinalIgnoreCase))
        {
            return (null, null);
        }

        if ((await service.ListBaselinesAsync(ct)).FirstOrDefault(b => b.Name == name) is { } found)
        {
            return (found.Id, null);
        }

        return await service.CanManageAsync() ? (null, $"There is no baseline named \"{StackControl.Printable(name)}\".") : (Guid.Empty, null);
    }

    public static void MapResetsApi(this RouteGroupBuilder v1)
    {
        var resets = v1.MapGroup("/resets").WithTags("Resets");
        resets.MapPost("/", async Task<Results<Accepted<ResetRunView>, ValidationProblem>> (ResetApiRequest? body, [FromServices] IResetService service, CancellationToken ct) =>
            {
                var (baselineId, unknown) = await BaselineIdAsync(service, body?.Baseline, ct);
                if (unknown is not null)
                {
                    return ApiProblems.Field("baseline", unknown);
                }

                var id = await service.RequestResetAsync(new ResetRequest(baselineId, body?.Services, body?.SafetyBackup ?? true, body?.Confirm), ct);
                return TypedResults.Accepted(OperationEndpoints.ResetLocation(id), RunView((await service.GetRunAsync(id, ct))!));
            })
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Reset to a baseline (Instructor): 202 with the operation in Location; 409 names the job that holds the stack");

        resets.MapGet("/", async ([FromServices] IResetService service, [FromQuery] int? take, CancellationToken ct) =>
                TypedResults.Ok((await service.ListRunsAsync(take ?? 50, ct)).Select(RunView).ToList()))
            .WithSummary("Reset history, newest first");

        resets.MapGet("/{id:guid}", async Task<Results<Ok<ResetRunView>, ProblemHttpResult>> (Guid id, [FromServices] IResetService service, CancellationToken ct) =>
                await service.GetRunAsync(id, ct) is { } run ? TypedResults.Ok(RunView(run)) : ApiProblems.NotFound("No reset has that id."))
            .WithSummary("One reset with its steps");

        var baselines = resets.MapGroup("/baselines").WithTags("Baselines");
        baselines.MapGet("/", async ([FromServices] IResetService service, CancellationToken ct) =>
                TypedResults.Ok((await service.ListBaselinesAsync(ct)).Select(b => new { b.Id, b.Name, b.Description, b.ModuleId, b.SetId, b.IsDefault, b.CreatedAt, b.CreatedBy })))
            .WithSummary("Baselines");
        baselines.MapPost("/", async Task<Results<Accepted, ValidationProblem>> (BaselineRequest? body, [FromServices] IResetService service, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits a Viewer, whatever the body), then the fields.
                if (await service.CanManageAsync() && string.IsNullOrWhiteSpace(body?.Name))
                {
                    return NoBaselineName();
                }

                var input = BaselineInputOf(body);
                var id = body?.SetId is { } setId ? await service.PromoteAsync(setId, input, ct) : await service.CaptureBaselineAsync(input, ct);
                var set = (await service.ListBaselinesAsync(ct)).First(b => b.Id == id).SetId;
                return TypedResults.Accepted(OperationEndpoints.BackupLocation(set));
            })
            .WithSummary("Capture the lab as a new baseline, or promote a set (setId) to one (Instructor); Location: the backup's operation");
        baselines.MapPut("/{id:guid}", async Task<Results<NoContent, ValidationProblem>> (Guid id, BaselineRequest? body, [FromServices] IResetService service, CancellationToken ct) =>
            {
                if (await service.CanManageAsync() && string.IsNullOrWhiteSpace(body?.Name))
                {
                    return NoBaselineName();
                }

                await service.UpdateBaselineAsync(id, BaselineInputOf(body), ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Rename or describe a baseline (Instructor)");
        baselines.MapPut("/default", async (DefaultBaselineRequest? body, [FromServices] IResetService service, CancellationToken ct) =>
            {
                await service.SetDefaultAsync(body?.BaselineId, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Choose the default baseline (null: the configured one) (Instructor)");
        baselines.MapDelete("/{id:guid}", async (Guid id, [FromServices] IResetService service, CancellationToken ct) =>
            {
                await service.DeleteBaselineAsync(id, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Delete a baseline; its set stays, unpinned (Instructor)");

        MapSchedules(resets);
    }

    private static void MapSchedules(RouteGroupBuilder resets)
    {
        var schedules = resets.MapGroup("/schedules").WithTags("Reset schedules");
        schedules.MapGet("/", async ([FromServices] IResetService service, CancellationToken ct) => TypedResults.Ok(await service.ListSchedulesAsync(ct)))
            .WithSummary("Reset schedules");
        schedules.MapPost("/", async Task<Results<Created, ValidationProblem>> (ResetScheduleRequest? body, [FromServices] IResetService service, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits a Viewer, whatever the body), then the fields.
                var (input, problem) = await InputOfAsync(service, body, ct);
                if (problem is not null)
                {
                    return problem;
                }

                var id = await service.CreateScheduleAsync(input, ct);
                return TypedResults.Created($"{ApiRoutes.Prefix}/resets/schedules/{id}");
            })
            .WithSummary("Create a reset schedule (Instructor)");
        schedules.MapPut("/{id:guid}", async Task<Results<NoContent, ValidationProblem>> (Guid id, ResetScheduleRequest? body, [FromServices] IResetService service, CancellationToken ct) =>
            {
                var (input, problem) = await InputOfAsync(service, body, ct);
                if (problem is not null)
                {
                    return problem;
                }

                await service.UpdateScheduleAsync(id, input, ct);
                return TypedResults.NoContent();
            })
            .WithSummary("Replace a reset schedule (Instructor)");
        schedules.MapScheduleActions<IResetService>("a reset schedule", (service, id, ct) => service.DeleteScheduleAsync(id, ct),
            (service, id, paused, ct) => service.SetSchedulePausedAsync(id, paused, ct), (service, id, ct) => service.RunScheduleNowAsync(id, ct),
            $"{ApiRoutes.Prefix}/resets");
    }

    /// <summary>
    /// The schedule the body asks for, and for a caller who may manage schedules the first bad field; anyone else gets
    /// no problem, whatever the body, and the service's audited refusal.
    /// </summary>
    private static async Task<(ResetScheduleInput Input, ValidationProblem? Problem)> InputOfAsync(IResetService service, ResetScheduleRequest? body, CancellationToken ct)
    {
        var (baselineId, unknown) = await BaselineIdAsync(service, body?.Baseline, ct);
        var input = new ResetScheduleInput(body?.Name ?? "", body?.Cron ?? "", body?.TimeZone ?? "UTC", baselineId, body?.Services, body?.SafetyBackup ?? true);
        var problem = !await service.CanManageAsync() ? null
            : string.IsNullOrWhiteSpace(body?.Name) ? ApiProblems.Field("name", "A schedule needs a name.")
            : string.IsNullOrWhiteSpace(body.Cron) ? ApiProblems.Field("cron", "A schedule needs a cron expression, e.g. \"0 7 * * 1-5\".")
            : unknown is not null ? ApiProblems.Field("baseline", unknown)
            : null;
        return (input, problem);
    }

    private static BaselineInput BaselineInputOf(BaselineRequest? body) => new(body?.Name ?? "", body?.Description, body?.ModuleId);

    private static ValidationProblem NoBaselineName() => ApiProblems.Field("name", "A baseline needs a name.");
}
