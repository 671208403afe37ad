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
        // The portal probing itself over https on loopback meets its own (possibly self-signed) certificate; nothing
        // secret is sent, and any other host is checked as usual.
        using var handler = new HttpClientHandler();
        if (Uri.TryCreate(url, UriKind.Absolute, out var target) && target.IsLoopback)
        {
            handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
        }

        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
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
