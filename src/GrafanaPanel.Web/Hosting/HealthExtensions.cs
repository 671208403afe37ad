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

/// <summary>Healthy when the panel database is migrated and answers now; the message names host, port and database.</summary>
public sealed class DatabaseHealthCheck(DatabaseStatus status, IDbContextFactory<PanelDbContext> dbFactory, IConfiguration configuration) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var target = DatabaseInitializer.DescribeTarget(configuration.GetConnectionString(DatabaseExtensions.ConnectionStringName));
        if (!status.IsReady)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL at {target} is not ready: {status.Problem}");
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var db = await dbFactory.CreateDbContextAsync(timeout.Token);
            await db.Database.ExecuteSqlRawAsync("SELECT 1", timeout.Token);
            return HealthCheckResult.Healthy($"PostgreSQL at {target} answers.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL at {target} is unreachable: {ex.GetBaseException().Message}");
        }
    }
}

/// <summary>Healthy when the Docker engine answers a version request now.</summary>
public sealed class DockerEngineHealthCheck(EngineStatus engine) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = await engine.RefreshAsync(cancellationToken);
        return state.Connected
            ? HealthCheckResult.Healthy($"Docker engine at {state.Endpoint}: version {state.Info!.Version}, API {state.Info.ApiVersion}.")
            : HealthCheckResult.Unhealthy(state.Error);
    }
}
