using Hangfire;

namespace GrafanaPanel.Web.Data;

/// <summary>Starts the Hangfire server only once the database is migrated, so start-up with PostgreSQL down stays quiet and safe.</summary>
public sealed class JobServerHost(IServiceProvider services, DatabaseStatus database, ILogger<JobServerHost> logger) : BackgroundService
{
    /// <summary>How often the job server writes its heartbeat (Hangfire's default is 30 s).</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

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
            // A job "processing" on a server that stopped beating was cut off by a dead portal (StackOperations.IsAlive).
            HeartbeatInterval = HeartbeatInterval,
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
