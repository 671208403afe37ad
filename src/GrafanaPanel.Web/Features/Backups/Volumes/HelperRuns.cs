using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>What a started helper container printed and how it exited.</summary>
public sealed record HelperRunResult(long ExitCode, IReadOnlyList<LogLine> Output)
{
    public IEnumerable<string> Stdout => Output.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Text);

    public IEnumerable<string> Stderr => Output.Where(l => l.Stream == LogStream.Stderr).Select(l => l.Text);
}

/// <summary>
/// Creates, starts, waits for and removes the portal's helper containers (the engine checks each body against the
/// rules in docs/security.md); a helper that cannot be removed now is left to start-up recovery.
/// </summary>
public sealed class HelperRuns(IDockerEngine docker, ILogger logger)
{
    /// <summary>How long one helper command may run (emptying, listing or moving a large volume).</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(30);

    /// <summary>Runs <paramref name="spec"/> to its end and returns its exit code and, when asked, its output.</summary>
    public async Task<HelperRunResult> RunAsync(HelperContainerSpec spec, bool readOutput, CancellationToken ct)
    {
        var helper = await docker.CreateHelperContainerAsync(spec, ct);
        try
        {
            await docker.StartContainerAsync(helper, ct);
            var exit = await docker.WaitContainerAsync(helper, Limit, ct);
            var output = new List<LogLine>();
            if (readOutput)
            {
                await foreach (var line in docker.ReadLogsAsync(helper, tail: -1, follow: false, ct))
                {
                    output.Add(line);
                }
            }

            return new HelperRunResult(exit, output);
        }
        finally
        {
            await RemoveAsync(helper);
        }
    }

    /// <summary>Removes a helper, never cancelled; a failure is logged (recovery removes leftovers).</summary>
    public async Task RemoveAsync(string? helper)
    {
        if (helper is null)
        {
            return;
        }

        try
        {
            await docker.RemoveContainerAsync(helper, CancellationToken.None);
        }
        catch (Exception e) when (e is DockerUnavailableException or DockerOperationException)
        {
            BackupLog.HelperNotRemoved(logger, e, helper);
        }
    }
}
