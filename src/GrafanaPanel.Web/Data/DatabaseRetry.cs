using Microsoft.EntityFrameworkCore;
using Npgsql;
using Polly;
using Polly.Retry;

namespace GrafanaPanel.Web.Data;

/// <summary>Retries a database call through a short outage (PostgreSQL restarted) for about two minutes.</summary>
public static class DatabaseRetry
{
    private static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 12,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(500),
            MaxDelay = TimeSpan.FromSeconds(15),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
        })
        .Build();

    public static bool IsTransient(Exception e) => e switch
    {
        // Npgsql knows which of its failures are worth a retry (connection lost, server shutting down or starting).
        NpgsqlException npgsql => npgsql.IsTransient,
        DbUpdateException { InnerException: NpgsqlException npgsql } => npgsql.IsTransient,
        InvalidOperationException { InnerException: NpgsqlException npgsql } => npgsql.IsTransient,
        TimeoutException => true,
        _ => false,
    };

    public static ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken ct) => Pipeline.ExecuteAsync(call, ct);
}
