using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Resets.Jobs;

namespace GrafanaPanel.IntegrationTests.Resets;

/// <summary>
/// The portal as a process of its own, killed with SIGKILL in the middle of a reset (services stopped), then started
/// again on the same database and backup directory: the reset is marked failed, the stack is running again, and the
/// same reset asked for again completes. Resets are asked for through <c>POST /api/resets</c>, as a script would.
/// </summary>
public sealed class ResetCrashTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);
    private readonly TestProject _project = new();
    private string _database = "";
    private string _directory = "";
    private string _volume = "";
    private string _db = "";
    private string _app = "";

    public async ValueTask InitializeAsync()
    {
        await TestProject.EnsureImageAsync();
        _database = await TestPostgres.CreateDatabaseAsync();
        _directory = Directory.CreateTempSubdirectory("gp-reset-crash-").FullName;
        _volume = await _project.CreateVolumeAsync("app_data");
        await BackupRig.SeedAsync(_volume, bigFile: false);
        // Big enough that the safety backup takes a while: the kill lands while the services are stopped.
        await BackupRig.InVolumeAsync(_volume, "head -c 157286400 /dev/urandom > /d/big.bin");
        string[] health = ["--health-cmd", "true", "--health-interval", "1s", "--health-retries", "1", "--stop-signal", "KILL"];
        _db = await _project.RunAsync("db", health, "sleep", "3600");
        _app = await _project.RunAsync("app",
            ["-v", $"{_volume}:/data", "--label", $"{ContainerRecord.DependsOnLabel}=db:service_healthy:false", .. health], "sleep", "3600");
    }

    public async ValueTask DisposeAsync()
    {
        await _project.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
        Directory.Delete(_directory, recursive: true);
    }

    private Task<PortalProcess> StartPortalAsync() =>
        PortalProcess.StartAsync(_database, new Dictionary<string, string>
        {
            ["Stack:ProjectName"] = _project.Name,
            ["Backups:Directory"] = _directory,
            ["Backups:HelperImage"] = TestProject.Image,
            ["Backups:FreeSpaceMarginBytes"] = "0",
            ["Resets:HealthPollInterval"] = "00:00:00.200",
            ["Resets:StopGracePeriod"] = "00:00:01",
        });

    [Fact]
    public async Task A_reset_cut_off_by_a_killed_portal_is_marked_failed_on_the_next_start_the_stack_runs_and_the_reset_completes_when_asked_again()
    {
        Guid runId;
        await using (var portal = await StartPortalAsync())
        {
            await portal.WaitForServicesAsync(2);
            using var client = await PortalClients.SignedInAsync(portal);
            runId = await RequestResetAsync(client);

            // Killed as soon as the reset has stopped the services.
            await Eventually.ReturnsAsync(() => ResetLab.StateAsync(_app), s => s == "exited", Wait, "the reset to stop app");
            await portal.KillAsync();
        }

        Assert.Equal("exited", await ResetLab.StateAsync(_app));

        await using (var portal = await StartPortalAsync())
        {
            using var client = await PortalClients.SignedInAsync(portal);

            // The stack is running again, from the journal the reset wrote before it stopped anything.
            await Eventually.ReturnsAsync(() => ResetLab.StateAsync(_app), s => s == "running", Wait, "app to run again");
            Assert.Equal("running", await ResetLab.StateAsync(_db));
            var failed = await Eventually.ReturnsAsync(() => RunAsync(client, runId), r => r.GetProperty("status").GetString() == "failed", Wait,
                "the cut-off reset to be marked failed");
            Assert.Equal(ResetStartup.Interrupted, failed.GetProperty("error").GetString());

            // Asked for again, it completes: the volume is empty (factory) and both services are healthy.
            var again = await RequestResetAsync(client);
            var done = await Eventually.ReturnsAsync(() => RunAsync(client, again),
                r => r.GetProperty("status").GetString() is "succeeded" or "failed", Wait, "the second reset to finish");
            Assert.True(done.GetProperty("status").GetString() == "succeeded", done.GetProperty("error").GetString());
            Assert.Equal("", await BackupRig.InVolumeAsync(_volume, "ls -A /d", readOnly: true));
            Assert.Equal("running", await ResetLab.StateAsync(_app));
        }
    }

    private static async Task<Guid> RequestResetAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/api/resets", new { baseline = "factory", services = new[] { "app" }, safetyBackup = true });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> RunAsync(HttpClient client, Guid id)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync($"/api/resets/{id}"));
        return document.RootElement.Clone();
    }
}
