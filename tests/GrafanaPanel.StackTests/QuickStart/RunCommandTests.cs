using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.StackTests.Infrastructure;
using Microsoft.Playwright;
using Npgsql;

namespace GrafanaPanel.StackTests.QuickStart;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuickStartCollection
{
    // Publishing the portal keeps both cores busy: alone, it neither slows nor is slowed by the stack's tests.
    public const string Name = "quick start";
}

/// <summary>
/// The README's first command, typed as written in a clean copy of the repository (what a clone holds), serves a
/// portal that a browser shows styled and interactive; and the build it publishes runs from any other folder.
/// </summary>
[Collection(QuickStartCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunCommandTests : IAsyncLifetime
{
    /// <summary>The command exactly as README.md gives it.</summary>
    private const string RunCommand = "scripts/run-portal.sh";

    private const string AdminEmail = "admin@quickstart.test";
    private const string AdminPassword = "Quick-start-Admin-1";

    private readonly DirectoryInfo _clone = Directory.CreateTempSubdirectory("gp-quickstart-");
    private readonly DirectoryInfo _elsewhere = Directory.CreateTempSubdirectory("gp-published-");
    private Browser _browser = default!;

    public async ValueTask InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _elsewhere.Delete(recursive: true);
        _clone.Delete(recursive: true);
    }

    [Fact]
    public void The_readme_gives_the_run_command_that_this_test_runs()
    {
        var readme = File.ReadAllText(Repo.PathOf("README.md"));

        Assert.Contains($"\n{RunCommand}\n", readme);
    }

    [Fact]
    public async Task The_run_command_in_a_clean_clone_serves_a_styled_interactive_portal_and_its_build_runs_from_any_folder()
    {
        CopyCheckout(Repo.Root, _clone.FullName);
        // A clone is readable by others, as the run command's PostgreSQL (run as the postgres user) needs.
        File.SetUnixFileMode(_clone.FullName, (UnixFileMode)0b111_101_101);
        var port = PortOrFree(8585);
        var environment = new Dictionary<string, string?>
        {
            // Only what the README documents: the first Admin from the environment, and ports when the defaults are taken.
            ["Panel__Admin__Email"] = AdminEmail,
            ["Panel__Admin__Password"] = AdminPassword,
            ["PANEL_PORT"] = port.ToString(),
            ["PANEL_LOCAL_PG_PORT"] = PortOrFree(55432).ToString(),
            ["ConnectionStrings__Panel"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = null,
        };

        await using (var portal = RunningScript.Start(_clone.FullName, RunCommand, environment))
        {
            var baseUrl = $"http://127.0.0.1:{port}";
            await portal.WaitUntilAnswersAsync($"{baseUrl}/readyz", TimeSpan.FromMinutes(8));

            var page = await (await _browser.Instance.NewContextAsync()).NewPageAsync();
            await Browser.AssertPortalWorksAsync(page, baseUrl, AdminEmail, AdminPassword, screenshot: "run-command.png");

            await AssertPublishedBuildRunsFromAnotherFolderAsync(portal);

            var exitCode = await portal.StopAsync();
            Assert.True(exitCode is 0 or 143, $"{RunCommand} exited with {exitCode} after SIGTERM:\n{portal.Output}");

            // Nothing the command printed holds the Admin's password or the private database's.
            var databasePassword = File.ReadAllText(Path.Combine(_clone.FullName, ".local", "postgres.password")).Trim();
            var leaks = SecretScan.Find(portal.Output.Split('\n'), [AdminPassword, databasePassword]);
            Assert.True(leaks.Count == 0, string.Join('\n', leaks));
        }

        // The script's own clean-up stopped the private PostgreSQL cluster it started.
        Assert.False(File.Exists(Path.Combine(_clone.FullName, ".local", "postgres", "data", "postmaster.pid")),
            "the run command left its PostgreSQL cluster running");
    }

    /// <summary>
    /// The publish output, copied outside any checkout and started with only a connection string, finds the module
    /// catalog published beside it, and creates the database it is pointed at.
    /// </summary>
    private async Task AssertPublishedBuildRunsFromAnotherFolderAsync(RunningScript runCommand)
    {
        var published = Path.Combine(_elsewhere.FullName, "portal");
        CopyDirectory(Path.Combine(_clone.FullName, ".local", "publish"), published);
        var password = File.ReadAllText(Path.Combine(_clone.FullName, ".local", "postgres.password")).Trim();
        var pgPort = runCommand.Environment["PANEL_LOCAL_PG_PORT"];
        var database = $"published_{Guid.NewGuid():N}"[..24];
        var port = PortOrFree(0);
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Panel"] = $"Host=127.0.0.1;Port={pgPort};Database={database};Username=postgres;Password={password}",
            ["Panel__Admin__Email"] = AdminEmail,
            ["Panel__Admin__Password"] = AdminPassword,
            ["Modules__CatalogPath"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = null,
        };

        await using var portal = RunningScript.Start(published, $"dotnet GrafanaPanel.Web.dll --urls http://127.0.0.1:{port}", environment);
        var baseUrl = $"http://127.0.0.1:{port}";
        await portal.WaitUntilAnswersAsync($"{baseUrl}/readyz", TimeSpan.FromMinutes(2));

        var page = await (await _browser.Instance.NewContextAsync()).NewPageAsync();
        await Browser.SignInAsync(page, baseUrl, AdminEmail, AdminPassword);
        await Browser.GotoInteractiveAsync(page, $"{baseUrl}/modules");
        await Assertions.Expect(page.Locator("[data-test=module-card]")).ToHaveCountAsync(5);

        await using var connection = new NpgsqlConnection(
            $"Host=127.0.0.1;Port={pgPort};Database=postgres;Username=postgres;Password={password};Pooling=false");
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand($"SELECT count(*) FROM pg_database WHERE datname = '{database}'", connection);
        Assert.Equal(1L, (long)(await exists.ExecuteScalarAsync())!);
        await portal.StopAsync();
    }

    /// <summary>What a clone holds: the files git tracks, and new ones it does not ignore; no build output, no .local/.</summary>
    private static void CopyCheckout(string from, string to)
    {
        var files = Tool.RunAsync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], TimeSpan.FromMinutes(1), from)
            .GetAwaiter().GetResult();
        Assert.True(files.ExitCode == 0, files.Output);
        foreach (var file in files.StandardOutput.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var source = Path.Combine(from, file);
            if (!File.Exists(source))
            {
                continue; // deleted in the working tree, not committed yet
            }

            var target = Path.Combine(to, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target); // keeps the mode, so scripts stay executable
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var source in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
    }

    /// <summary>The default port when nothing listens on it (a developer may run the portal while testing), else a free one.</summary>
    private static int PortOrFree(int preferred)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, preferred);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        catch (SocketException)
        {
            return PortOrFree(0);
        }
    }

    /// <summary>A command run through bash as its own process group, stopped with SIGTERM as Ctrl-C would.</summary>
    private sealed class RunningScript : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private RunningScript(Process process, IReadOnlyDictionary<string, string?> environment)
        {
            _process = process;
            Environment = environment;
        }

        public IReadOnlyDictionary<string, string?> Environment { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static RunningScript Start(string directory, string command, IReadOnlyDictionary<string, string?> environment)
        {
            // setsid: the command leads a process group of its own, so one signal reaches it and everything it started.
            var start = new ProcessStartInfo(Tool.Require("setsid"))
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add("bash");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(command);
            foreach (var (key, value) in environment)
            {
                if (value is null)
                {
                    start.Environment.Remove(key);
                }
                else
                {
                    start.Environment[key] = value;
                }
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException($"{command} could not be started.");
            var script = new RunningScript(process, environment);
            process.OutputDataReceived += (_, e) => script.Keep(e.Data);
            process.ErrorDataReceived += (_, e) => script.Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return script;
        }

        public async Task WaitUntilAnswersAsync(string url, TimeSpan timeout)
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.HoldsAsync($"{url} to answer 200", async () =>
            {
                if (_process.HasExited)
                {
                    Assert.Fail($"The command exited with {_process.ExitCode} before {url} answered:\n{Output}");
                }

                try
                {
                    using var response = await client.GetAsync(url);
                    return (response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}\n{Tail()}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return (false, $"{e.Message}\n{Tail()}");
                }
            }, timeout);
        }

        /// <summary>SIGTERM to the whole group; waits for the command to finish its own clean-up.</summary>
        public async Task<int> StopAsync()
        {
            if (!_process.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", "--", $"-{_process.Id}"]);
                await kill.WaitForExitAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                await _process.WaitForExitAsync(timeout.Token);
            }

            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                try
                {
                    await StopAsync();
                }
                catch (OperationCanceledException)
                {
                    using var kill = Process.Start("kill", ["-KILL", "--", $"-{_process.Id}"]);
                    await kill.WaitForExitAsync();
                }
            }

            _process.Dispose();
        }

        private string Tail() => string.Join('\n', Output.Split('\n').TakeLast(15));

        private void Keep(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }
}
