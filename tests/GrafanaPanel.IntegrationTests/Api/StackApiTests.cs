using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Stack;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Api;

/// <summary>
/// Whole-stack actions through <c>/api/v1/stack/{action}</c> on a real compose-labelled project: 202 and an operation
/// that shows the service it is at and ends with the job's audit entry; 409 while the stack is busy.
/// </summary>
public sealed class StackApiTests : IAsyncLifetime
{
    private readonly TestProject _project = new();
    private ApiPortal _app = default!;

    public async ValueTask InitializeAsync()
    {
        await TestProject.EnsureImageAsync();
        // Each stop takes the whole grace period, so a running operation can be seen.
        await _project.RunSmallStackAsync();
        _app = new ApiPortal();
        _app.With("Stack:ProjectName", _project.Name).With("Stack:StopGracePeriod", "00:00:02");
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        var snapshot = _app.Services.GetRequiredService<StackSnapshot>();
        await Eventually.HoldsAsync(() => snapshot.Current.Services.Length == 3, TimeSpan.FromSeconds(30), "the snapshot to list 3 services");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _project.DisposeAsync();
    }

    [Fact]
    public async Task A_whole_stack_restart_answers_202_and_its_operation_shows_each_service_then_ends_with_all_restarted_but_the_portal()
    {
        var (instructor, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        using var client = _app.BearerClient(secret);
        var before = await StartedAtAsync();

        var response = await client.PostAsync("/api/v1/stack/restart", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith("/api/v1/operations/stack/", location);
        var seen = new List<JsonElement>();
        var operation = await Eventually.ReturnsAsync(async () =>
        {
            var state = await client.GetFromJsonAsync<JsonElement>(location);
            seen.Add(state);
            return state;
        }, o => o.GetProperty("status").GetString() is Operation.Succeeded or Operation.Failed, TimeSpan.FromMinutes(1), "the restart operation ends");

        Assert.True(operation.GetProperty("status").GetString() == Operation.Succeeded, operation.ToString());
        Assert.Equal("stack.restart", operation.GetProperty("result").GetProperty("action").GetString());
        Assert.Equal("/api/v1/stack", operation.GetProperty("resource").GetString());
        // Running as soon as Hangfire has it; the step once the job has the stack.
        Assert.Contains(seen, o => o.GetProperty("status").GetString() == Operation.Running
            && o.GetProperty("progress") is { ValueKind: JsonValueKind.Object } progress
            && progress.GetProperty("step").GetString() is "Restarting postgres…" or "Restarting grafana…");
        var after = await StartedAtAsync();
        Assert.NotEqual(before["postgres"], after["postgres"]);
        Assert.NotEqual(before["grafana"], after["grafana"]);
        Assert.True(DateTimeOffset.Parse(after["postgres"]) < DateTimeOffset.Parse(after["grafana"]), "grafana depends on postgres: postgres restarts first");
        Assert.Equal(before["panel"], after["panel"]);
        var entry = Assert.Single(await TestAudit.EntriesAsync(_app, "stack.restart"));
        Assert.True(entry.Succeeded);
        Assert.Equal(instructor.Email, entry.User);
        Assert.EndsWith($" operation {location[(location.LastIndexOf('/') + 1)..]}", entry.Target);
        Assert.Equal(1, await StackJobsAsync());
    }

    [Fact]
    public async Task A_second_whole_stack_request_while_one_is_queued_or_running_is_a_409_naming_the_first_and_queues_nothing()
    {
        var (instructor, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        using var client = _app.BearerClient(secret);

        var first = await client.PostAsync("/api/v1/stack/restart", null);
        var second = await client.PostAsync("/api/v1/stack/stop", null);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        var problem = await ApiPortal.ProblemAsync(second);
        // Queued ("a restart of the whole stack asked for by …") or already holding the stack ("restart of the whole stack by …").
        Assert.Matches($"restart of the whole stack (asked for )?by {System.Text.RegularExpressions.Regex.Escape(instructor.Email!)}", problem.GetProperty("detail").GetString());
        var operation = await Eventually.ReturnsAsync(() => client.GetFromJsonAsync<JsonElement>(first.Headers.Location!),
            o => o.GetProperty("status").GetString() is Operation.Succeeded or Operation.Failed, TimeSpan.FromMinutes(1), "the restart ends");
        Assert.True(operation.GetProperty("status").GetString() == Operation.Succeeded, operation.ToString());
        Assert.Equal(1, await StackJobsAsync());
        foreach (var service in new[] { "postgres", "grafana" })
        {
            Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", await _project.IdOfAsync(service)));
        }
    }

    [Fact]
    public async Task A_whole_stack_job_cut_off_by_a_portal_restart_is_not_run_again_when_Hangfire_hands_it_back()
    {
        var (_, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        using var client = _app.BearerClient(secret);
        var before = await StartedAtAsync();
        // A restart whose first run began (and died with its portal): queued where no server reads, marked as begun,
        // then handed to the job server, as Hangfire does with a dead server's job after its invisibility timeout.
        var jobs = _app.Services.GetRequiredService<IBackgroundJobClient>();
        var id = jobs.Create<StackActionJob>(job => job.RunAsync(ServiceAction.Restart, "script@panel.test", null, CancellationToken.None), new EnqueuedState("unserved"));
        using (var connection = _app.Services.GetRequiredService<JobStorage>().GetConnection())
        {
            connection.SetJobParameter(id, StackActionJob.StartedParameter, SerializationHelper.Serialize(DateTimeOffset.UtcNow.AddMinutes(-30), SerializationOption.User));
        }

        Assert.True(jobs.Requeue(id));

        var operation = await Eventually.ReturnsAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/v1/operations/stack/{id}"),
            o => o.GetProperty("status").GetString() is Operation.Succeeded or Operation.Failed, TimeSpan.FromMinutes(1), "the handed-back job ends");
        Assert.Equal(Operation.Failed, operation.GetProperty("status").GetString());
        Assert.Contains("was not run again", operation.GetProperty("error").GetString());
        Assert.Equal(before, await StartedAtAsync());
    }

    [Fact]
    public async Task An_operation_id_that_is_no_whole_stack_job_is_a_404()
    {
        var (_, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        using var client = _app.BearerClient(secret);
        var rescan = await client.PostAsync("/api/v1/backups/rescan", null);
        Assert.Equal(HttpStatusCode.Accepted, rescan.StatusCode);
        var rescanJob = await _app.DbAsync(db => db.Database.SqlQueryRaw<long>(
            $"select max(id) as \"Value\" from {DatabaseInitializer.HangfireSchema}.job where invocationdata::text like '%CatalogRescanJob%'").SingleAsync());

        foreach (var id in new[] { "987654321", rescanJob.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            var response = await client.GetAsync($"/api/v1/operations/stack/{id}");
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Contains("No whole-stack operation", (await ApiPortal.ProblemAsync(response)).GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task While_the_stack_is_busy_a_whole_stack_action_is_refused_with_409_naming_the_job_and_nothing_is_queued()
    {
        var (instructor, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        using var client = _app.BearerClient(secret);
        var before = await StartedAtAsync();
        using (_app.Services.GetRequiredService<StackLock>().Acquire("a reset of the lab"))
        {
            var response = await client.PostAsync("/api/v1/stack/stop", null);

            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            var problem = await ApiPortal.ProblemAsync(response);
            Assert.Contains("a reset of the lab", problem.GetProperty("detail").GetString());
        }

        var entry = Assert.Single(await TestAudit.EntriesAsync(_app, "stack.stop"));
        Assert.False(entry.Succeeded);
        Assert.Equal(instructor.Email, entry.User);
        Assert.Equal(0, await StackJobsAsync());
        Assert.Equal(before, await StartedAtAsync());
        foreach (var service in before.Keys)
        {
            Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", await _project.IdOfAsync(service)));
        }
    }

    /// <summary>How many whole-stack jobs Hangfire holds, in any state.</summary>
    private Task<int> StackJobsAsync() =>
        _app.DbAsync(db => db.Database.SqlQueryRaw<int>(
            $"select count(*)::int as \"Value\" from {DatabaseInitializer.HangfireSchema}.job where invocationdata::text like '%{nameof(StackActionJob)}%'").SingleAsync());

    /// <summary>When each service's container last started, by compose service.</summary>
    private async Task<Dictionary<string, string>> StartedAtAsync()
    {
        var started = new Dictionary<string, string>();
        foreach (var service in new[] { "postgres", "grafana", "panel" })
        {
            started[service] = await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", await _project.IdOfAsync(service));
        }

        return started;
    }
}
