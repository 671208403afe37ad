using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.IntegrationTests.Resets;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;

namespace GrafanaPanel.IntegrationTests.Api;

/// <summary>
/// What an instructor's script does, end to end, on the real portal (a process of its own, the real Docker engine and
/// PostgreSQL): with a personal access token and nothing but curl and jq, back a volume up, verify the set, restore
/// it, reset the lab (through the repository's own <c>scripts/api/wait-for-reset.sh</c>) and ask whether the lab is
/// ready. Every step must succeed and leave its trace where the pages would.
/// </summary>
public sealed class ApiScriptTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);
    private readonly TestProject _project = new();
    private string _database = "";
    private string _directory = "";
    private string _volume = "";
    private string _app = "";

    /// <summary>
    /// The script under test: each long action answers 202 with an operation, followed until it ends; any failure
    /// exits non-zero with the operation's error on stderr.
    /// </summary>
    private const string Script = """
        set -euo pipefail
        auth=(-H "Authorization: Bearer $TOKEN")
        location() { tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }'; }
        follow() {
          while :; do
            answer=$(curl -sS --fail-with-body "${auth[@]}" "$GP$1")
            case $(jq -r .status <<<"$answer") in
              succeeded) return 0 ;;
              failed) echo "$1 failed: $(jq -r .error <<<"$answer")" >&2; return 1 ;;
            esac
            sleep 0.5
          done
        }

        backup=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' -D - -o /dev/null \
                   -d "{\"volumes\":[\"$VOLUME\"],\"mode\":\"stop\"}" "$GP/api/v1/backups/sets" | location)
        follow "$backup"
        set=${backup##*/}
        echo "set $set"

        verify=$(curl -sS "${auth[@]}" -X POST -D - -o /dev/null "$GP/api/v1/backups/sets/$set/verify" | location)
        follow "$verify"
        curl -sS --fail-with-body "${auth[@]}" "$GP/api/v1/backups/sets/$set" | jq -e '.verification == "passed"' >/dev/null

        restore=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' -D - -o /dev/null -d '{}' \
                    "$GP/api/v1/backups/sets/$set/restore" | location)
        follow "$restore"

        "$REPO/scripts/api/wait-for-reset.sh" factory "$STACK"

        curl -sS --fail-with-body "${auth[@]}" "$GP/api/v1/modules/readiness" | jq -e 'type == "array" or type == "object"' >/dev/null
        echo "lab cycle done"
        """;

    public async ValueTask InitializeAsync()
    {
        await TestProject.EnsureImageAsync();
        _database = await TestPostgres.CreateDatabaseAsync();
        _directory = Directory.CreateTempSubdirectory("gp-api-script-").FullName;
        _volume = await _project.CreateVolumeAsync("app_data");
        await BackupRig.SeedAsync(_volume, bigFile: false);
        string[] health = ["--health-cmd", "true", "--health-interval", "1s", "--health-retries", "1", "--stop-signal", "KILL"];
        _app = await _project.RunAsync("app", ["-v", $"{_volume}:/data", .. health], "sleep", "3600");
    }

    public async ValueTask DisposeAsync()
    {
        await _project.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_script_with_a_token_backs_up_verifies_restores_resets_and_asks_for_readiness_through_curl()
    {
        await using var portal = await PortalProcess.StartAsync(_database, new Dictionary<string, string>
        {
            ["Stack:ProjectName"] = _project.Name,
            ["Backups:Directory"] = _directory,
            ["Backups:HelperImage"] = TestProject.Image,
            ["Backups:FreeSpaceMarginBytes"] = "0",
            ["Resets:HealthPollInterval"] = "00:00:00.200",
            ["Resets:StopGracePeriod"] = "00:00:01",
        });
        await portal.WaitForServicesAsync(1);
        var token = await CreateTokenAsync(portal);

        var (exit, output, errors) = await RunScriptAsync(portal, token);

        Assert.True(exit == 0, $"the script exited {exit}: {errors}\n{output}");
        Assert.Contains("lab cycle done", output);
        Assert.DoesNotContain(token, output + errors);
        // The factory reset emptied the volume and left the service running.
        Assert.Equal("", await BackupRig.InVolumeAsync(_volume, "ls -A /d", readOnly: true));
        Assert.Equal("running", await ResetLab.StateAsync(_app));
        // Each action is in the audit log as the token's owner, as the pages would record it.
        using var client = await PortalClients.SignedInAsync(portal);
        using var audit = JsonDocument.Parse(await client.GetStringAsync("/api/v1/audit?take=200"));
        var entries = audit.RootElement.GetProperty("entries").EnumerateArray()
            .Select(e => (Action: e.GetProperty("action").GetString(), User: e.GetProperty("user").GetString(), Ok: e.GetProperty("succeeded").GetBoolean()))
            .ToList();
        string[] actions = [BackupAuditActions.Create, BackupAuditActions.BackupJob, BackupAuditActions.Verify, BackupAuditActions.VerifyJob,
            BackupAuditActions.Restore, BackupAuditActions.RestoreJob, ResetAuditActions.Request, ResetAuditActions.Run];
        foreach (var action in actions)
        {
            Assert.True(entries.Any(e => e.Action == action && e.User == PanelAppFactory.AdminEmail && e.Ok),
                $"no successful {action} by {PanelAppFactory.AdminEmail} in the audit log: {string.Join(", ", entries)}");
        }
    }

    private async Task<(int Exit, string Output, string Errors)> RunScriptAsync(PortalProcess portal, string token)
    {
        var start = new ProcessStartInfo("bash", ["-c", Script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["GP"] = portal.Address;
        start.Environment["TOKEN"] = token;
        start.Environment["VOLUME"] = _volume;
        start.Environment["STACK"] = _project.Name;
        start.Environment["REPO"] = RepositoryRoot();
        start.Environment["GRAFANAPANEL_URL"] = portal.Address;
        start.Environment["GRAFANAPANEL_TOKEN"] = token;
        start.Environment["GRAFANAPANEL_RESET_TIMEOUT"] = "180";
        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        var errors = script.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Wait);
        try
        {
            await script.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            script.Kill(entireProcessTree: true);
            throw new TimeoutException($"The script did not end within {Wait}: {await errors}");
        }

        return (script.ExitCode, await output, await errors);
    }

    private static async Task<string> CreateTokenAsync(PortalProcess portal)
    {
        using var client = await PortalClients.SignedInAsync(portal);
        using var response = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "lab script", scope = "Instructor", expiresInDays = 7 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!;
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

        throw new InvalidOperationException("No repository root above the test's folder.");
    }
}
