using System.Diagnostics;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Telemetry;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Telemetry;

/// <summary>
/// The job queue gauges on a real portal's /metrics, read from its Hangfire storage on the real PostgreSQL: jobs
/// waiting in a queue no server of the portal listens to, scheduled jobs, and a storage that cannot be read.
/// </summary>
public sealed class JobQueueMetricsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Jobs_waiting_in_a_queue_are_counted_on_metrics_and_the_count_goes_down_once_a_server_has_run_them()
    {
        var portal = new PanelAppFactory();
        try
        {
            await portal.InitializeAsync();
            await portal.WaitUntilDatabaseReadyAsync();
            using var client = portal.CreateClient();
            var jobs = portal.Services.GetRequiredService<IBackgroundJobClient>();
            var queue = "metrics-" + Guid.NewGuid().ToString("N")[..8];
            var queued = $"grafanapanel_jobs_queued{{queue=\"{queue}\"}}";
            const string scheduled = "grafanapanel_jobs_in_state{state=\"scheduled\"}";
            var scheduledBefore = await Scrape.ValueAsync(client, scheduled) ?? throw new InvalidOperationException("no scheduled jobs series");

            // The portal's own server listens to "default" only: these wait.
            var ids = Enumerable.Range(1, 3).Select(n => jobs.Create(() => QueuedWork.Done(n), new EnqueuedState(queue))).ToList();
            var later = Enumerable.Range(1, 2).Select(n => jobs.Schedule(() => QueuedWork.Done(n), TimeSpan.FromHours(1))).ToList();

            await Eventually.ReturnsAsync(() => Scrape.ValueAsync(client, queued), v => v == 3, Wait, $"{queued} to say 3");
            await Eventually.ReturnsAsync(() => Scrape.ValueAsync(client, scheduled), v => v == scheduledBefore + 2, Wait, $"{scheduled} to grow by 2");

            var storage = portal.Services.GetRequiredService<JobStorage>();
            using (new BackgroundJobServer(new BackgroundJobServerOptions { Queues = [queue], WorkerCount = 1, ServerName = queue }, storage))
            {
                await Eventually.ReturnsAsync(() => Scrape.ValueAsync(client, queued), v => v == 0, Wait, $"{queued} to say 0 once run");
            }

            using var connection = storage.GetConnection();
            await Eventually.HoldsAsync(() => ids.All(id => connection.GetStateData(id)?.Name == SucceededState.StateName), Wait, "the queued jobs to have succeeded");
            foreach (var id in later)
            {
                Assert.True(jobs.Delete(id));
            }

            await Eventually.ReturnsAsync(() => Scrape.ValueAsync(client, scheduled), v => v == scheduledBefore, Wait, $"{scheduled} to be back once deleted");
        }
        finally
        {
            await ((IAsyncLifetime)portal).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_scrape_still_answers_while_the_job_storage_cannot_be_read_and_the_gauges_say_NaN_until_it_can_again()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        var portal = new PanelAppFactory { Database = postgres.ConnectionString };
        try
        {
            await portal.InitializeAsync();
            await portal.WaitUntilDatabaseReadyAsync();
            using var client = portal.CreateClient();
            var queue = "metrics-" + Guid.NewGuid().ToString("N")[..8];
            var queued = $"grafanapanel_jobs_queued{{queue=\"{queue}\"}}";
            portal.Services.GetRequiredService<IBackgroundJobClient>().Create(() => QueuedWork.Done(1), new EnqueuedState(queue));
            await Eventually.ReturnsAsync(() => Scrape.ValueAsync(client, queued), v => v == 1, Wait, $"{queued} to say 1");

            await postgres.StopAsync();
            var slowest = TimeSpan.Zero;
            await Eventually.ReturnsAsync(async () =>
            {
                var scrape = Stopwatch.StartNew();
                var value = await Scrape.ValueAsync(client, queued);
                slowest = scrape.Elapsed > slowest ? scrape.Elapsed : slowest;
                return value;
            }, v => v is double.NaN, Wait, $"{queued} to say NaN with PostgreSQL stopped");
            Assert.True(Scrape.Value(await client.GetStringAsync("/metrics"), "grafanapanel_jobs_in_state{state=\"enqueued\"}") is double.NaN);
            // Prometheus gives up on a scrape after 10 s by default; the storage's own timeout must not reach the scrape.
            Assert.True(slowest < TimeSpan.FromSeconds(5), $"the slowest scrape took {slowest}");

            await postgres.StartAgainAsync();
            await Eventually.ReturnsAsync(() => Scrape.ValueAsync(client, queued), v => v == 1, Wait, $"{queued} to say 1 again");
            Assert.Contains(portal.Log.Lines, line => line.Contains("The job storage cannot be read for the queue metrics", StringComparison.Ordinal));
        }
        finally
        {
            await ((IAsyncLifetime)portal).DisposeAsync();
        }
    }
}

/// <summary>A job that does nothing, for the tests' own queues.</summary>
public static class QueuedWork
{
    public static void Done(int number) => Debug.Assert(number > 0);
}
