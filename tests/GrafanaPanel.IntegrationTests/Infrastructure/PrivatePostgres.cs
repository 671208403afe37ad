using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (the machine's server binaries, through the same shell functions the scripts
/// use), so a test can stop and start it under a running portal without touching the shared test server.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _directory;
    private readonly int _port;
    private readonly string _password = Guid.NewGuid().ToString("N");

    private PrivatePostgres(string directory, int port)
    {
        _directory = directory;
        _port = port;
    }

    /// <summary>A fresh database on this server (pooled, as the portal connects).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Password={_password};Database=portal;Timeout=5";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var server = new PrivatePostgres(Path.Combine(Path.GetTempPath(), $"gp-private-pg-{Guid.NewGuid():N}"), FreePort());
        await server.StartAgainAsync();
        await using var connection = new NpgsqlConnection(server.ConnectionString.Replace("Database=portal", "Database=postgres", StringComparison.Ordinal));
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand("CREATE DATABASE portal", connection);
        await create.ExecuteNonQueryAsync();
        return server;
    }

    /// <summary>Stops the server (fast shutdown: every connection is cut, as in a restart).</summary>
    public Task StopAsync() => ShellAsync($"stop_pg_cluster '{_directory}'");

    public Task StartAgainAsync() => ShellAsync($"start_pg_cluster '{_directory}' {_port} '{_password}'");

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task ShellAsync(string command)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"set -e; source '{Path.Combine(RepositoryRoot(), "scripts", "lib", "common.sh")}'; {command}");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{command}' failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GrafanaPanel.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (GrafanaPanel.sln) was not found above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
