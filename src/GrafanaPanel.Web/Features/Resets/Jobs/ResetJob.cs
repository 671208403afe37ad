using Hangfire;

namespace GrafanaPanel.Web.Features.Resets.Jobs;

/// <summary>Runs one queued reset (see <see cref="ResetRunner"/>).</summary>
public sealed class ResetJob(ResetRunner runner)
{
    // No automatic retry: a failed reset has recorded why and started the services again; repeating it unasked
    // would stop the lab again. The instructor decides, and a second delivery finds the run no longer queued.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid runId, CancellationToken ct) => runner.RunAsync(runId, ct);
}
