namespace GrafanaPanel.Web.Hosting;

/// <summary>
/// <c>--healthcheck URL</c>: the container image has no curl, so the app probes itself for Docker's HEALTHCHECK.
/// </summary>
public static class HealthProbeCommand
{
    public static async Task<bool> TryRunAsync(string[] args)
    {
        var index = Array.IndexOf(args, "--healthcheck");
        if (index < 0)
        {
            return false;
        }

        var url = index + 1 < args.Length ? args[index + 1] : "http://127.0.0.1:8585/healthz";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(url);
            Environment.ExitCode = response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"health probe of {url} failed: {ex.Message}");
            Environment.ExitCode = 1;
        }

        return true;
    }
}
