using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class OfflineGrafanaCollection : ICollectionFixture<OfflineGrafana>
{
    public const string Name = "offline grafana";
}

/// <summary>
/// The real docker-compose.yml with the offline image set, started with only grafana, postgres and redis
/// (<c>tests/stack/up.sh grafana postgres redis</c>): the Grafana stand-in answers the HTTP API on 127.0.0.1:13000
/// from the provisioned files. The test stack has fixed ports, so only one copy can run on a machine: when another
/// run's copy is up, this waits for it to go away instead of tearing it down. Removed with its volumes at the end
/// (<c>tests/stack/down.sh</c>) unless STACK_TESTS_KEEP=true.
/// </summary>
public sealed class OfflineGrafana : IAsyncLifetime
{
    public const string Project = "grafana-training-test";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(20);

    private readonly EnvFile _environment = EnvFile.Load(Path.Combine(Repo.StackScripts, "test.env"));
    private bool _started;

    public string Url => $"http://127.0.0.1:{_environment["GRAFANA_PORT"]}";

    public string AdminUser => _environment["GRAFANA_ADMIN_USER"];

    public string AdminPassword => _environment["GRAFANA_ADMIN_PASSWORD"];

    /// <summary>An HTTP client signed in to Grafana as its admin, to arrange and check what the portal does.</summary>
    public HttpClient Admin { get; private set; } = default!;

    /// <summary>The portal's settings for this Grafana, as compose gives them to the portal (basic auth of the admin).</summary>
    public PanelAppFactory Configure(PanelAppFactory app, string? catalogPath = null) => app
        .With("Stack:ProjectName", Project)
        .With("Grafana:Url", Url)
        .With("Grafana:PublicUrl", Url)
        .With("Grafana:User", AdminUser)
        .With("Grafana:Password", AdminPassword)
        .With("Modules:CatalogPath", catalogPath);

    public async ValueTask InitializeAsync()
    {
        await WaitForOtherRunsAsync();
        var up = await Tool.RunAsync("bash", [Path.Combine(Repo.StackScripts, "up.sh"), "grafana", "postgres", "redis"], StartTimeout);
        Assert.True(up.ExitCode == 0, $"tests/stack/up.sh grafana postgres redis failed: {up.Output}");
        _started = true;
        Admin = new HttpClient { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromSeconds(10) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminUser}:{AdminPassword}")));
        await Eventually.ReturnsAsync(async () =>
        {
            try
            {
                return (await Admin.GetAsync("api/health")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, ok => ok, TimeSpan.FromMinutes(1), "the Grafana stand-in to answer /api/health");
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (!_started || string.Equals(Environment.GetEnvironmentVariable("STACK_TESTS_KEEP"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var down = await Tool.RunAsync("bash", [Path.Combine(Repo.StackScripts, "down.sh")], TimeSpan.FromMinutes(3));
        Assert.True(down.ExitCode == 0, $"tests/stack/down.sh failed: {down.Output}");
    }

    /// <summary><c>docker compose</c> on the test stack (tests/stack/compose.sh), e.g. stop grafana.</summary>
    public async Task ComposeAsync(params string[] arguments)
    {
        var result = await Tool.RunAsync("bash", [Path.Combine(Repo.StackScripts, "compose.sh"), .. arguments], TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, $"tests/stack/compose.sh {string.Join(' ', arguments)} failed: {result.Output}");
    }

    /// <summary>Creates a user directly in Grafana (not through the portal); returns its id.</summary>
    public async Task<int> CreateGrafanaUserAsync(string login, string password)
    {
        using var response = await Admin.PostAsJsonAsync("api/admin/users", new { login, email = $"{login}@elsewhere.invalid", name = login, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    /// <summary>The id of the Grafana user with this login, or null.</summary>
    public async Task<int?> UserIdAsync(string login)
    {
        using var response = await Admin.GetAsync($"api/users/lookup?loginOrEmail={Uri.EscapeDataString(login)}");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32() : null;
    }

    public async Task DeleteGrafanaUserAsync(string login)
    {
        if (await UserIdAsync(login) is { } id)
        {
            (await Admin.DeleteAsync($"api/admin/users/{id}")).EnsureSuccessStatusCode();
        }
    }

    private static async Task WaitForOtherRunsAsync()
    {
        var minutes = int.TryParse(Environment.GetEnvironmentVariable("STACK_TEST_WAIT_MINUTES"), out var m) ? m : 20;
        var deadline = DateTime.UtcNow.AddMinutes(minutes);
        while (true)
        {
            var running = await Tool.RunAsync("docker",
                ["ps", "--all", "--quiet", "--filter", $"label=com.docker.compose.project={Project}"], TimeSpan.FromSeconds(30));
            Assert.True(running.ExitCode == 0, $"docker ps failed: {running.Output}");
            if (running.StandardOutput.Trim().Length == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"The offline test stack ({Project}) has been up for {minutes} min, started by another run. Only one copy can run at a time; " +
                "wait for it, or if it is a leftover of an interrupted run remove it with tests/stack/down.sh (STACK_TEST_WAIT_MINUTES sets the wait).");
            await Task.Delay(TimeSpan.FromSeconds(10));
        }
    }
}
