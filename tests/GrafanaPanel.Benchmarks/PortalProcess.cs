using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace GrafanaPanel.Benchmarks;

/// <summary>The real portal as its own process on a loopback port, signed in as a bootstrapped Admin.</summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private const string Email = "bench@panel.test";
    private const string Password = "Bench-Password-42";
    private readonly Process _process;
    private readonly string _database;
    private readonly string _adminConnection;

    private PortalProcess(Process process, HttpClient client, string database, string adminConnection)
    {
        _process = process;
        Client = client;
        _database = database;
        _adminConnection = adminConnection;
    }

    public HttpClient Client { get; }

    public static async Task<PortalProcess> StartAsync(BenchOptions options, string project)
    {
        var database = $"gp_bench_{Guid.NewGuid():N}"[..30];
        await using (var admin = new NpgsqlConnection(options.Postgres))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin).ExecuteNonQueryAsync();
        }

        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(options.PortalDll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["ConnectionStrings__Panel"] = new NpgsqlConnectionStringBuilder(options.Postgres) { Database = database }.ConnectionString;
        start.Environment["Stack__ProjectName"] = project;
        start.Environment["Panel__Admin__Email"] = Email;
        start.Environment["Panel__Admin__Password"] = Password;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  portal: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        };
        var portal = new PortalProcess(process, client, database, options.Postgres);
        await portal.WaitUntilReadyAsync();
        await portal.SignInAsync();
        return portal;
    }

    /// <summary>Waits until the snapshot lists at least the given number of services.</summary>
    public async Task WaitForServicesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var doc = JsonDocument.Parse(await Client.GetStringAsync("/api/stack"));
            var total = doc.RootElement.GetProperty("total").GetInt32();
            if (total >= count)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The portal saw {total} of {count} services after {timeout}.");
            }

            await Task.Delay(200);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with {_process.ExitCode} before it was ready.");
            }

            try
            {
                if ((await Client.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The portal did not become ready within 60 s.");
    }

    private async Task SignInAsync()
    {
        var html = await Client.GetStringAsync("/account/login");
        var token = Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var response = await Client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["Email"] = Email,
            ["Password"] = Password,
        }));
        if (response.Headers.Location?.OriginalString != "/")
        {
            throw new InvalidOperationException($"Sign-in failed: {response.StatusCode} {response.Headers.Location}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_adminConnection);
        await admin.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin).ExecuteNonQueryAsync();
    }
}
