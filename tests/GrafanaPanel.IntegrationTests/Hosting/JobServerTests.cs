using GrafanaPanel.IntegrationTests.Infrastructure;
using Hangfire;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>A job class resolved from DI; it records that it ran with its argument.</summary>
public sealed class RecordingJob(JobRecorder recorder)
{
    public void Run(string marker) => recorder.Ran.TrySetResult(marker);
}

public sealed class JobRecorder
{
    public TaskCompletionSource<string> Ran { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public sealed class JobServerTests : IAsyncLifetime
{
    private readonly RecordingFactory _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task A_job_enqueued_through_the_client_runs_on_the_in_process_server_with_its_dependencies()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        var jobs = _app.Services.GetRequiredService<IBackgroundJobClient>();

        var id = jobs.Enqueue<RecordingJob>(job => job.Run("hello from the queue"));

        Assert.False(string.IsNullOrEmpty(id));
        var marker = await _app.Services.GetRequiredService<JobRecorder>().Ran.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("hello from the queue", marker);
    }

    private sealed class RecordingFactory : PanelAppFactory
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<JobRecorder>();
                services.AddTransient<RecordingJob>();
            });
        }
    }
}
