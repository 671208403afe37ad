using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>The catalog as the Modules page reads it, with the file's error when the last edit did not parse.</summary>
public sealed record ModuleCatalogAnswer(string Path, DateTimeOffset? LoadedAt, string? Error, IReadOnlyList<TrainingModule> Modules);

/// <summary>Every module's readiness (services of the stack and pieces in Grafana), as the module cards show it.</summary>
public sealed record ReadinessAnswer(DateTimeOffset CheckedAt, string? GrafanaVersion, string? GrafanaCannotCheck, IReadOnlyList<ModuleReadiness> Modules);

/// <summary>The pre-class check: the same checklist and verdict as the Modules page.</summary>
public sealed record PreClassAnswer(DateTimeOffset At, string Verdict, string Summary, IReadOnlyList<CheckItem> Items);

/// <summary>The body of <c>PUT /api/v1/modules/{id}/notes</c>.</summary>
public sealed record NotesRequest(string? Markdown);

/// <summary>The body of <c>POST /api/v1/learners</c>.</summary>
public sealed record LearnersRequest(int? Count, int? Teams, string? Role);

/// <summary><c>/api/v1/modules</c> and <c>/api/v1/learners</c>: the Modules and Learner accounts pages' services.</summary>
public static class ModulesApiEndpoints
{
    public static void MapModulesApi(this RouteGroupBuilder v1)
    {
        var modules = v1.MapGroup("/modules").WithTags("Modules");
        modules.MapGet("/", ([FromServices] IModuleCatalog catalog) =>
            {
                catalog.Refresh();
                var state = catalog.Current;
                return TypedResults.Ok(new ModuleCatalogAnswer(state.Catalog.Path, state.LoadedAt, state.Error?.ToString(), state.Catalog.Modules));
            })
            .WithSummary("The module catalog");

        modules.MapGet("/readiness", async ([FromServices] IModuleCatalog catalog, [FromServices] StackSnapshot snapshot,
                [FromServices] ModuleReadinessChecker checker, CancellationToken ct) =>
            {
                catalog.Refresh();
                var all = catalog.Current.Catalog.Modules;
                var grafana = await checker.ProbeGrafanaAsync(all, ct);
                var stack = snapshot.Current;
                return TypedResults.Ok(new ReadinessAnswer(grafana.CheckedAt, grafana.Version, grafana.CannotCheck,
                    [.. all.Select(m => ModuleReadinessChecker.Evaluate(m, stack, grafana))]));
            })
            .WithSummary("Every module's readiness");

        modules.MapPost("/pre-class-check", async ([FromServices] IPreClassCheck check, CancellationToken ct) =>
            {
                var report = await check.RunAsync(ct);
                return TypedResults.Ok(new PreClassAnswer(report.At, report.Verdict.ToString(), PreClassReport.Describe(report.Verdict), report.Items));
            })
            .WithSummary("Run the pre-class check (Instructor); audited with its verdict");

        modules.MapGet("/{id}/notes", async Task<Results<Ok<ModuleNote>, NoContent, ProblemHttpResult>> (
                string id, [FromServices] IModuleCatalog catalog, [FromServices] IModuleNotes notes, CancellationToken ct) =>
            catalog.Current.Catalog.Find(id) is null
                ? UnknownModule(id)
                : await notes.GetAsync(id, ct) is { } note ? TypedResults.Ok(note) : TypedResults.NoContent())
            .WithSummary("A module's instructor notes (204 when there are none)");

        modules.MapPut("/{id}/notes", async Task<Results<Ok<ModuleNote>, ValidationProblem, ProblemHttpResult>> (
                string id, NotesRequest? body, [FromServices] RoleGate gate, [FromServices] IModuleCatalog catalog, [FromServices] IModuleNotes notes,
                CancellationToken ct) =>
            {
                // The role first (the service refuses and audits anyone else, whatever the body), then 404 and the fields.
                if (await gate.AllowsAsync(PanelRoles.Instructor))
                {
                    if (catalog.Current.Catalog.Find(id) is null)
                    {
                        return UnknownModule(id);
                    }

                    if (body?.Markdown is null)
                    {
                        return ApiProblems.Field("markdown", "Send the notes as Markdown in \"markdown\" (an empty string clears them).");
                    }
                }

                return TypedResults.Ok(await notes.SaveAsync(id, body?.Markdown ?? "", ct));
            })
            .WithSummary("Replace a module's notes (Instructor); audited");

        var learners = v1.MapGroup("/learners").WithTags("Learner accounts");
        learners.MapGet("/", async ([FromServices] ILearnerAccounts accounts, CancellationToken ct) => TypedResults.Ok(await accounts.ListAsync(ct)))
            .WithSummary("Learner accounts the portal created in Grafana");
        learners.MapPost("/", async Task<Results<Ok<IReadOnlyList<LearnerOutcome>>, ValidationProblem>> (
                LearnersRequest? body, [FromServices] RoleGate gate, [FromServices] ILearnerAccounts accounts, CancellationToken ct) =>
            {
                // The role first (the service refuses and audits anyone else, whatever the body), then the fields.
                if (await gate.AllowsAsync(PanelRoles.Instructor) && LearnersProblem(body) is { } problem)
                {
                    return problem;
                }

                return TypedResults.Ok(await accounts.CreateAsync(new LearnerRequest(body?.Count ?? 0, body?.Teams ?? 0, body?.Role ?? "Editor"), ct));
            })
            .WithSummary("Create learner accounts (Instructor); each password is in this answer only");
        learners.MapDelete("/{recordId:long}", async ([FromServices] ILearnerAccounts accounts, long recordId, CancellationToken ct) =>
                TypedResults.Ok(await accounts.RemoveAsync([recordId], ct)))
            .WithSummary("Remove one learner account (Instructor)");
        learners.MapDelete("/", async ([FromServices] ILearnerAccounts accounts, CancellationToken ct) => TypedResults.Ok(await accounts.RemoveAllAsync(ct)))
            .WithSummary("Remove every learner account the portal created (Instructor)");
    }

    private static ValidationProblem? LearnersProblem(LearnersRequest? body) =>
        body?.Count is not (>= 1 and <= LearnerAccounts.MaxBatch) ? ApiProblems.Field("count", $"count must be between 1 and {LearnerAccounts.MaxBatch}.")
        : body.Teams is < 0 or > LearnerAccounts.MaxTeams ? ApiProblems.Field("teams", $"teams must be between 0 and {LearnerAccounts.MaxTeams}.")
        : body.Role is { } role && !LearnerAccounts.Roles.Contains(role) ? ApiProblems.Field("role", $"role must be one of {string.Join(", ", LearnerAccounts.Roles)}.")
        : null;

    private static ProblemHttpResult UnknownModule(string id) =>
        ApiProblems.NotFound($"The catalog has no module \"{StackControl.Printable(id)}\".");
}
