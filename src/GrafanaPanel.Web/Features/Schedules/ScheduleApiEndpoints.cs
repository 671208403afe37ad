
namespace GrafanaPanel.Web.Features.Schedules;

/// <summary>
/// The actions every kind of schedule has on the API (delete, pause, resume, run now), mapped once for backups and
/// resets alike; each feature passes what its service calls them.
/// </summary>
public static class ScheduleApiEndpoints
{
    /// <param name="what">"a schedule", "a reset schedule": as the reference page names the calls.</param>
    /// <param name="runLocation">Where a script sees what a run made (the 202's Location).</param>
    public static void MapScheduleActions<TService>(
        this RouteGroupBuilder schedules,
        string what,
        Func<TService, Guid, CancellationToken, Task> delete,
        Func<TService, Guid, bool, CancellationToken, Task> setPaused,
        Func<TService, Guid, CancellationToken, Task> runNow,
        string runLocation)
        where TService : notnull
    {
        schedules.MapDelete("/{id:guid}", async (Guid id, HttpContext http, CancellationToken ct) =>
            {
                await delete(ServiceOf<TService>(http), id, ct);
                return TypedResults.NoContent();
            })
            .WithSummary($"Delete {what}; what it made stays (Instructor)");
        schedules.MapPost("/{id:guid}/pause", async (Guid id, HttpContext http, CancellationToken ct) =>
            {
                await setPaused(ServiceOf<TService>(http), id, true, ct);
                return TypedResults.NoContent();
            })
            .WithSummary($"Pause {what} (Instructor)");
        schedules.MapPost("/{id:guid}/resume", async (Guid id, HttpContext http, CancellationToken ct) =>
            {
                await setPaused(ServiceOf<TService>(http), id, false, ct);
                return TypedResults.NoContent();
            })
            .WithSummary($"Resume {what} (Instructor)");
        schedules.MapPost("/{id:guid}/run", async (Guid id, HttpContext http, CancellationToken ct) =>
            {
                await runNow(ServiceOf<TService>(http), id, ct);
                return TypedResults.Accepted(runLocation);
            })
            .WithSummary($"Run {what} now (Instructor)");
    }

    // Resolved from the request rather than bound as a parameter: the route-handler analyzer cannot read a generic one.
    private static TService ServiceOf<TService>(HttpContext http)
        where TService : notnull => http.RequestServices.GetRequiredService<TService>();
}
