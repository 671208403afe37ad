using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// The real portal as a process of its own (<c>dotnet GrafanaPanel.Web.dll</c> from the test's output folder, settings
/// in the environment, as the container runs it), so a test can kill it with SIGKILL mid-job and start another on the
/// same database and backup directory. The database is the caller's; it is left in place.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly List<string> _secrets = [];

    private PortalProcess(Process process, string address, string? httpAddress)
    {
        _process = process;
        Address = address;
        HttpAddress = httpAddress;
    }

    /// <summary>Where the portal serves (https when started so).</summary>
    public string Address { get; }

    /// <summary>The plain http address it also binds when started with https, else null.</summary>
    public string? HttpAddress { get; }

    public int Id => _process.Id;

    /// <summary>Starts the portal on a free loopback port with <paramref name="settings"/> (configuration keys with ':')
    /// and waits until <c>/readyz</c> answers 200. With <paramref name="https"/>, it binds an https port and an http one.</summary>
    public static async Task<PortalProcess> StartAsync(string connectionString, IReadOnlyDictionary<string, string> settings, bool https = false)
    {
        var port = FreePort();
        var address = $"{(https ? "https" : "http")}://127.0.0.1:{port}";
        var httpAddress = https ? $"http://127.0.0.1:{FreePort()}" : null;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "GrafanaPanel.Web.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(httpAddress is null ? address : $"{address};{httpAddress}");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__Panel"] = connectionString;
        start.Environment["Panel__Admin__Email"] = PanelAppFactory.AdminEmail;
        start.Environment["Panel__Admin__Password"] = PanelAppFactory.AdminPassword;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var portal = new PortalProcess(process, address, httpAddress);
        portal._secrets.AddRange(SecretScan.SecretsOf(connectionString, start.Environment));
        process.OutputDataReceived += (_, e) => portal.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => portal.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await portal.WaitUntilReadyAsync();
        }
        catch
        {
            await portal.DisposeAsync();
            throw;
        }

        return portal;
    }

    /// <summary>What the process wrote so far (for a failing test's message).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output.TakeLast(60));
            }
        }
    }

    /// <summary>Everything the process wrote to standard output and error so far.</summary>
    public IReadOnlyList<string> AllOutput
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    /// <summary>Secrets besides its settings' passwords and tokens that this portal must never write (a test adds its own).</summary>
    public List<string> KnownSecrets => _secrets;

    /// <summary>Signs in as the bootstrapped Admin and waits until <c>/api/stack</c> lists <paramref name="count"/> services.</summary>
    public async Task WaitForServicesAsync(int count)
    {
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri(Address),
        };
        await Eventually.ReturnsAsync(
            async () => (await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword)).Headers.Location?.OriginalString,
            location => location == "/", TimeSpan.FromSeconds(60), "the Admin to sign in");
        await Eventually.ReturnsAsync(
            async () =>
            {
                using var summary = JsonDocument.Parse(await client.GetStringAsync("/api/stack"));
                return summary.RootElement.GetProperty("total").GetInt32();
            },
            total => total >= count, TimeSpan.FromSeconds(60), $"the portal to list {count} service(s)");
    }

    /// <summary>SIGKILL, as <c>kill -9</c>: no shutdown code of the portal runs. Waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Stops the process and fails when anything it wrote holds one of its secrets.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        SecretScan.AssertNone(AllOutput, _secrets, "The portal process");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        // A self-signed certificate is what the https tests look at, not what readiness waits for.
        using var client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator })
        {
            BaseAddress = new Uri(Address),
            Timeout = TimeSpan.FromSeconds(5),
        };
        await Eventually.ReturnsAsync(
            async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"The portal exited with {_process.ExitCode} before it was ready:\n{Output}");
                }

                try
                {
                    return (await client.GetAsync("/readyz")).StatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return HttpStatusCode.ServiceUnavailable;
                }
            },
            status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(90), "the portal process to be ready");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
