using GrafanaPanel.Web.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrafanaPanel.Web.Data;

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
