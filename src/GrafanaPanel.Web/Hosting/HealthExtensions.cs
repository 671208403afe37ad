using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace GrafanaPanel.Web.Hosting;

public static class HealthExtensions
{
    private const string ReadyTag = "ready";

    public static void AddPanelHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            .AddCheck<DockerEngineHealthCheck>("docker", tags: [ReadyTag]);
    }

    public static void MapPanelHealth(this WebApplication app)
    {
        // Liveness: the process answers. Readiness: the database and the Docker engine answer.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteJsonAsync,
        }).AllowAnonymous();

        // Created now so the stack gauges are on /metrics from the first scrape.
        app.Services.GetRequiredService<GrafanaPanel.Web.Features.Stack.StackMetrics>();
        TelemetryExtensions.StartMeterAdapter();
        var token = app.Configuration["Metrics:BearerToken"];
        var metrics = app.MapMetrics("/metrics").AllowAnonymous();
        if (!string.IsNullOrEmpty(token))
        {
            var expected = Encoding.UTF8.GetBytes($"Bearer {token}");
            metrics.AddEndpointFilter(async (context, next) =>
                BearerMatches(context.HttpContext.Request.Headers.Authorization, expected)
                    ? await next(context)
                    : Results.Unauthorized());
        }
    }

    /// <summary>Compares in constant time (for equal lengths), so the response time does not leak the token's prefix.</summary>
    public static bool BearerMatches(string? authorization, byte[] expected) =>
        authorization is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(authorization), expected);

    /// <summary>
    /// Anyone (a load balancer, Docker) gets the overall status; the checks' messages (database host and port, engine
    /// endpoint and version, errors) only go to a signed-in user.
    /// </summary>
    private static Task WriteJsonAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        if (http.User.Identity?.IsAuthenticated != true)
        {
            return http.Response.WriteAsync(JsonSerializer.Serialize(new { status = report.Status.ToString() }, JsonSerializerOptions.Web));
        }

        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), message = e.Value.Description, durationMs = (int)e.Value.Duration.TotalMilliseconds }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
