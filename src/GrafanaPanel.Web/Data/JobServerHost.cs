using Hangfire;

namespace GrafanaPanel.Web.Data;

/// <summary>Starts the Hangfire server only once the database is migrated, so start-up with PostgreSQL down stays quiet and safe.</summary>
public sealed class JobServerHost(IServiceProvider services, DatabaseStatus database, ILogger<JobServerHost> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.WhenReadyAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var options = new BackgroundJobServerOptions
        {
            WorkerCount = Math.Max(2, Environment.ProcessorCount),
            Queues = ["default"],
        };
        var server = ActivatorUtilities.CreateInstance<BackgroundJobServerHostedService>(services, options);
        await server.StartAsync(stoppingToken);
        logger.LogInformation("Job server started with {Workers} workers", options.WorkerCount);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }

        await server.StopAsync(CancellationToken.None);
        server.Dispose();
    }
}
