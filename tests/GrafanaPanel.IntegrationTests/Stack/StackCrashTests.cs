using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;

namespace GrafanaPanel.IntegrationTests.Stack;

/// <summary>
/// The portal as a process of its own, killed with SIGKILL in the middle of a whole-stack restart: no container of the
/// stack may be left stopped.
/// </summary>
public sealed class StackCrashTests : IAsyncLifetime
{
    private readonly TestProject _project = new();
    private string _database = "";

    public async ValueTask InitializeAsync()
    {
        await TestProject.EnsureImageAsync();
        _database = await TestPostgres.CreateDatabaseAsync();
        // Each container's restart waits out the grace period, long enough to be cut into.
        await _project.RunSmallStackAsync(withPortal: false);
    }

    public async ValueTask DisposeAsync()
    {
        await _project.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task A_portal_killed_in_the_middle_of_a_whole_stack_restart_leaves_every_container_running()
    {
        var grafana = await _project.IdOfAsync("grafana");
        var grafanaStarted = await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", grafana);
        Uri operation;
        await using (var portal = await StartPortalAsync())
        {
            await portal.WaitForServicesAsync(2);
            using var client = await PortalClients.SignedInAsync(portal);
            var accepted = await client.PostAsync("/api/v1/stack/restart", null);
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{(int)accepted.StatusCode} {await accepted.Content.ReadAsStringAsync()}");
            operation = accepted.Headers.Location!;

            // Killed while the daemon restarts postgres, before grafana's turn.
            await Eventually.ReturnsAsync(
                () => client.GetFromJsonAsync<JsonElement>(operation),
                o => o.TryGetProperty("progress", out var p) && p.ValueKind == JsonValueKind.Object && p.GetProperty("step").GetString() == "Restarting postgres…",
                TimeSpan.FromSeconds(60), "the operation to be at postgres");
            await portal.KillAsync();
        }

        await TestProject.WaitForStatusAsync(await _project.IdOfAsync("postgres"), "running");
        Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", grafana));
        Assert.Equal(grafanaStarted, await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", grafana));

        // The next portal: once the dead job server has missed its heartbeats, the cut-off operation reads failed and the
        // stack takes a new whole-stack action (Hangfire would hand the old job back only half an hour later).
        await using (var portal = await StartPortalAsync())
        {
            using var client = await PortalClients.SignedInAsync(portal);
            var cutOff = await Eventually.ReturnsAsync(() => client.GetFromJsonAsync<JsonElement>(operation),
                o => o.GetProperty("status").GetString() != "running", TimeSpan.FromSeconds(90), "the cut-off operation to end");
            Assert.Equal("failed", cutOff.GetProperty("status").GetString());
            Assert.Contains("The portal stopped while this ran", cutOff.GetProperty("error").GetString());

            var again = await client.PostAsync("/api/v1/stack/start", null);
            Assert.True(again.StatusCode == HttpStatusCode.Accepted, $"{(int)again.StatusCode} {await again.Content.ReadAsStringAsync()}");
            var done = await Eventually.ReturnsAsync(() => client.GetFromJsonAsync<JsonElement>(again.Headers.Location!),
                o => o.GetProperty("status").GetString() is "succeeded" or "failed", TimeSpan.FromSeconds(60), "the new start to end");
            Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
        }
    }

    private Task<PortalProcess> StartPortalAsync() =>
        PortalProcess.StartAsync(_database, new Dictionary<string, string>
        {
            ["Stack:ProjectName"] = _project.Name,
            ["Stack:StopGracePeriod"] = "00:00:03",
        });
}
