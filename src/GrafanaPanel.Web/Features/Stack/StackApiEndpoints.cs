using System.Text.Json;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>What a service or stack action answers: the same words the page shows.</summary>
public sealed record StackActionResult(string Message);

/// <summary>One stack volume, its size and when it was measured.</summary>
public sealed record VolumeSize(string Name, long? SizeBytes, IReadOnlyList<string> UsedBy);

/// <summary>The volume sizes as last measured (the daemon walks every volume; measured in the background).</summary>
public sealed record VolumeSizes(DateTimeOffset? MeasuredAt, long? DiskUsedBytes, IReadOnlyList<VolumeSize> Volumes);

/// <summary><c>/api/v1/stack</c>: the overview, one service, service and whole-stack actions, logs and volume sizes.</summary>
public static class StackApiEndpoints
{
    public static void MapStackApi(this RouteGroupBuilder v1)
    {
        var stack = v1.MapGroup("/stack").WithTags("Stack");
        stack.MapGet("/", ([FromServices] StackSnapshot snapshot) => TypedResults.Ok(StackSummary.From(snapshot.Current)))
            .WithSummary("The overview: every service's state, health, ports and volumes");

        stack.MapGet("/services/{name}", Results<Ok<ServiceSummary>, ProblemHttpResult> (string name, [FromServices] StackSnapshot snapshot) =>
                StackSummary.From(snapshot.Current).Services.FirstOrDefault(s => s.Name == name) is { } service
                    ? TypedResults.Ok(service)
                    : ApiProblems.NotFound($"The stack has no service named \"{StackControl.Printable(name)}\"."))
            .WithSummary("One service");

        stack.MapPost("/services/{name}/{action}", async Task<Results<Ok<StackActionResult>, ValidationProblem>> (
                string name, string action, [FromServices] RoleGate gate, [FromServices] IAuditLog audit, [FromServices] IStackControl control,
                CancellationToken ct) =>
            await VerbAsync(gate, audit, AuditActions.Service, StackControl.Printable(name), action, ct) is { } verb
                ? TypedResults.Ok(new StackActionResult(await control.RunAsync(name, verb, ct)))
                : UnknownAction(action))
            .WithSummary("Start, stop or restart one service (Instructor)");

        stack.MapPost("/{action}", async Task<Results<Accepted, ValidationProblem>> (
                string action, [FromServices] RoleGate gate, [FromServices] IAuditLog audit, [FromServices] StackControl control,
                [FromServices] IOptions<StackOptions> options, CancellationToken ct) =>
            await VerbAsync(gate, audit, AuditActions.Stack, options.Value.ProjectName, action, ct) is { } verb
                ? TypedResults.Accepted(OperationEndpoints.StackLocation(await control.RequestStackAsync(verb, ct)))
                : UnknownAction(action))
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Start, stop or restart the whole stack in dependency order (Instructor): 202 and an operation; 409 while the stack is busy");

        stack.MapGet("/volumes", ([FromServices] StackSnapshot snapshot) =>
            {
                var view = snapshot.Current;
                return TypedResults.Ok(new VolumeSizes(view.VolumesMeasuredAt, view.DiskUsedBytes,
                    [.. view.Volumes.Select(v => new VolumeSize(v.Name, v.SizeBytes,
                        [.. view.Services.Where(s => s.Volumes.Any(sv => sv.Name == v.Name)).Select(s => s.Name)]))]));
            })
            .WithSummary("Volume sizes as last measured");

        stack.MapPost("/volumes/measure", ([FromServices] StackMonitor monitor) =>
            {
                monitor.RequestVolumeRefresh();
                return TypedResults.Accepted($"{ApiRoutes.Prefix}/stack/volumes");
            })
            .RequireRateLimiting(ApiOptions.ExpensivePolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Measure volume sizes now (rate-limited per token); read the result from /stack/volumes");

        stack.MapGet("/logs", Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult> (
                HttpContext http, [FromServices] StackLogs logs, [FromServices] StackSnapshot snapshot,
                [FromQuery] string? service, [FromQuery] int? tail, [FromQuery] bool? follow) =>
            {
                if (!string.IsNullOrEmpty(service) && snapshot.Current.Services.All(s => s.Name != service))
                {
                    return ApiProblems.NotFound($"The stack has no service named \"{StackControl.Printable(service)}\".");
                }

                if (tail is < 1 or > StackLogs.MaxTail)
                {
                    return ApiProblems.Field("tail", $"tail must be between 1 and {StackLogs.MaxTail}.");
                }

                var names = string.IsNullOrEmpty(service) ? Array.Empty<string>() : [service];
                // One JSON object a line (NDJSON), flushed as it comes, so `follow=true` streams.
                return TypedResults.Stream(async body =>
                {
                    await foreach (var line in logs.ReadAsync(names, tail ?? 200, follow ?? false, http.RequestAborted))
                    {
                        await JsonSerializer.SerializeAsync(body, new
                        {
                            line.Service,
                            line.Timestamp,
                            stream = line.Stream == Docker.LogStream.Stderr ? "stderr" : "stdout",
                            line.Text,
                        }, JsonSerializerOptions.Web, http.RequestAborted);
                        await body.WriteAsync("\n"u8.ToArray(), http.RequestAborted);
                        await body.FlushAsync(http.RequestAborted);
                    }
                }, "application/x-ndjson");
            })
            .WithSummary("Log lines as NDJSON: the last `tail` lines of one service (or all), then new ones with follow=true");
    }

    /// <summary>
    /// The action named in the route; null when it is none, for a caller who holds the role. The role comes first: with
    /// no action to pass on to <see cref="IStackControl"/>, its own refusal (403, audited as what was asked for, e.g.
    /// <c>service.jump</c>) is raised here for anyone else.
    /// </summary>
    private static async Task<ServiceAction?> VerbAsync(
        RoleGate gate, IAuditLog audit, Func<string, string> auditAction, string target, string action, CancellationToken ct)
    {
        ServiceAction? verb = action switch
        {
            "start" => ServiceAction.Start,
            "stop" => ServiceAction.Stop,
            "restart" => ServiceAction.Restart,
            _ => null,
        };
        if (verb is null)
        {
            await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, auditAction(StackControl.Printable(action)), target, ct);
        }

        return verb;
    }

    private static ValidationProblem UnknownAction(string action) =>
        ApiProblems.Field("action", $"\"{StackControl.Printable(action)}\" is not an action; use start, stop or restart.");
}
