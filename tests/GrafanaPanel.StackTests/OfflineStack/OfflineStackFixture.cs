using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.OfflineStack;

[CollectionDefinition(Name)]
public sealed class OfflineStackCollection : ICollectionFixture<OfflineStackFixture>
{
    public const string Name = "offline stack";
}

/// <summary>
/// The real docker-compose.yml started once for the collection with the offline image set
/// (tests/stack/up.sh, every service but the portal, whose test starts it), and torn down with its
/// volumes at the end (tests/stack/down.sh). Set STACK_TESTS_KEEP=true to leave it running.
/// </summary>
public sealed class OfflineStackFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(20);
    private Exception? _startFailure;

    /// <summary>
    /// The image a portal hosted by a test gives its helper containers (Backups__HelperImage): the offline stack's
    /// Debian-based PostgreSQL image has every tool they use (sh, find, mkdir, mv, rm, df, du, stat, awk).
    /// </summary>
    public const string HelperImage = "local/offline-postgres:test";

    public EnvFile TestEnvironment { get; } = EnvFile.Load(Path.Combine(Repo.StackScripts, "test.env"));

    public string ProjectName { get; } = Environment.GetEnvironmentVariable("STACK_TEST_PROJECT") ?? "grafana-training-test";

    public IReadOnlyList<string> LabServices { get; private set; } = [];

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public Uri Url(string portVariable, string path) => new($"http://127.0.0.1:{TestEnvironment[portVariable]}{path}");

    /// <summary>Fails the calling test with the start-up output when the stack did not come up.</summary>
    public void EnsureStarted()
    {
        if (_startFailure is not null)
        {
            Assert.Fail($"The offline stack did not start: {_startFailure.Message}");
        }
    }

    private readonly SemaphoreSlim _portalStart = new(1, 1);
    private bool _portalStarted;

    /// <summary>
    /// Starts the portal's container in the stack (tests/stack/up.sh panel: its image built from the repository's
    /// Dockerfile) once for the collection and waits until its /readyz is healthy; later callers find it running.
    /// </summary>
    public async Task StartPortalAsync()
    {
        EnsureStarted();
        await _portalStart.WaitAsync();
        try
        {
            if (_portalStarted)
            {
                return;
            }

            var up = await StackScriptAsync("up.sh", ["panel"], StartTimeout);
            Assert.True(up.ExitCode == 0, $"tests/stack/up.sh panel failed: {up.Output}");
            await Eventually.HoldsAsync("the portal's /readyz healthy", async () =>
            {
                using var response = await Http.GetAsync(Url("PANEL_PORT", "/readyz"));
                var body = await response.Content.ReadAsStringAsync();
                var healthy = response.IsSuccessStatusCode && JsonDocument.Parse(body).RootElement.GetProperty("status").GetString() == "Healthy";
                return (healthy, $"{(int)response.StatusCode} {body}");
            }, TimeSpan.FromMinutes(2));
            _portalStarted = true;
        }
        finally
        {
            _portalStart.Release();
        }
    }

    public static Task<ToolResult> StackScriptAsync(string script, IEnumerable<string> arguments, TimeSpan timeout) =>
        Tool.RunAsync("bash", [Path.Combine(Repo.StackScripts, script), .. arguments], timeout);

    public async Task<JsonElement> GetJsonAsync(Uri url)
    {
        using var response = await Http.GetAsync(url);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    public async ValueTask InitializeAsync()
    {
        try
        {
            await RequireDockerComposeAsync();
            var services = await StackScriptAsync("compose.sh", ["config", "--services"], TimeSpan.FromMinutes(1));
            Assert.True(services.ExitCode == 0, services.Output);
            LabServices = services.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(s => s != "panel").ToList();

            // A clean slate: nothing left from an interrupted run.
            var down = await StackScriptAsync("down.sh", [], TimeSpan.FromMinutes(3));
            Assert.True(down.ExitCode == 0, $"tests/stack/down.sh failed: {down.Output}");

            var up = await StackScriptAsync("up.sh", LabServices, StartTimeout);
            Assert.True(up.ExitCode == 0, $"tests/stack/up.sh {string.Join(' ', LabServices)} failed: {up.Output}");
        }
        catch (Exception e)
        {
            _startFailure = e;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        _portalStart.Dispose();
        if (string.Equals(Environment.GetEnvironmentVariable("STACK_TESTS_KEEP"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var down = await StackScriptAsync("down.sh", [], TimeSpan.FromMinutes(3));
        if (down.ExitCode != 0)
        {
            throw new InvalidOperationException($"tests/stack/down.sh failed: {down.Output}");
        }
    }

    private static async Task RequireDockerComposeAsync()
    {
        var version = await Tool.RunAsync("docker", ["compose", "version"], TimeSpan.FromSeconds(30));
        Assert.True(version.ExitCode == 0,
            $"The Docker Compose v2 plugin is required (see docs/testing.md, 'Compose v2'): {version.Output}");
        var info = await Tool.RunAsync("docker", ["info", "--format", "{{.ServerVersion}}"], TimeSpan.FromSeconds(30));
        Assert.True(info.ExitCode == 0, $"The Docker daemon is not reachable (start dockerd): {info.Output}");
    }
}
