using System.Security.Claims;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Stack;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.IntegrationTests.Stack;

/// <summary>The portal's actions against a real compose-labelled project on the real Docker engine.</summary>
public sealed class StackControlTests : IAsyncLifetime
{
    private readonly TestProject _project = new();
    private readonly TestProject _otherProject = new();
    private PanelAppFactory _app = default!;

    public async ValueTask InitializeAsync()
    {
        await TestProject.EnsureImageAsync();
        await _project.RunSmallStackAsync();
        await _otherProject.RunAsync("grafana", "sleep", "3600");
        _app = new PanelAppFactory().With("Stack:ProjectName", _project.Name).With("Stack:ReconcileInterval", "01:00:00")
            .With("Stack:StopGracePeriod", "00:00:02");
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        var snapshot = _app.Services.GetRequiredService<StackSnapshot>();
        await Eventually.HoldsAsync(() => snapshot.Current.Services.Length == 3, TimeSpan.FromSeconds(30), "the snapshot to list 3 services");
    }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncLifetime)_app).DisposeAsync();
        await _project.DisposeAsync();
        await _otherProject.DisposeAsync();
    }

    [Fact]
    public async Task Stop_start_and_restart_change_the_real_container_and_are_audited()
    {
        var control = await ControlForAsync(PanelRoles.Instructor);
        var id = await _project.IdOfAsync("grafana");

        await control.RunAsync("grafana", ServiceAction.Stop);
        Assert.Equal("exited", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", id));

        await control.RunAsync("grafana", ServiceAction.Start);
        Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", id));

        var before = await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id);
        await control.RunAsync("grafana", ServiceAction.Restart);
        Assert.NotEqual(before, await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id));

        var entries = await AuditEntriesAsync();
        Assert.Contains(entries, e => e.Action == "service.stop" && e.Target == "grafana" && e.Succeeded);
        Assert.Contains(entries, e => e.Action == "service.restart" && e.Target == "grafana" && e.Succeeded);
    }

    [Fact]
    public async Task The_snapshot_follows_a_change_made_outside_the_portal_through_events()
    {
        var snapshot = _app.Services.GetRequiredService<StackSnapshot>();
        var seen = new TaskCompletionSource<StackView>(TaskCreationOptions.RunContinuationsAsynchronously);
        snapshot.Changed += view =>
        {
            if (view.Find("postgres")?.State == ContainerState.Exited)
            {
                seen.TrySetResult(view);
            }
        };

        await DockerCli.RunAsync("stop", "-t", "1", await _project.IdOfAsync("postgres"));

        // Reconciliation is set to an hour: only the events stream can bring this change in time.
        var view = await seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ServiceHealth.Down, view.Find("postgres")!.Health);
    }

    [Fact]
    public async Task A_service_action_is_refused_while_a_stack_changing_job_holds_the_lock()
    {
        var control = await ControlForAsync(PanelRoles.Instructor);
        var id = await _project.IdOfAsync("grafana");
        var startedAt = await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id);

        using (_app.Services.GetRequiredService<StackLock>().Acquire("the reset to baseline \"factory\" asked for by ann@panel.test"))
        {
            var refused = await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync("grafana", ServiceAction.Restart));
            Assert.Contains("the reset to baseline \"factory\" asked for by ann@panel.test is running", refused.Message);
        }

        Assert.Equal(startedAt, await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id));
        await control.RunAsync("grafana", ServiceAction.Restart);
        Assert.NotEqual(startedAt, await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id));
    }

    [Theory]
    [InlineData("../grafana")]
    [InlineData("a/../b")]
    [InlineData("%2e%2e")]
    [InlineData("g")]
    [InlineData("grafana\0")]
    [InlineData("grafana\nx")]
    [InlineData("GRAFANA")]
    public async Task A_name_that_is_not_a_service_of_the_stack_is_refused_and_nothing_is_touched(string name)
    {
        var control = await ControlForAsync(PanelRoles.Admin);
        var id = await _project.IdOfAsync("grafana");
        var startedAt = await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id);

        var refused = await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync(name, ServiceAction.Restart));

        Assert.Contains("no service named", refused.Message);
        Assert.DoesNotContain('\0', refused.Message);
        Assert.Equal(startedAt, await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", id));
        Assert.Contains(await AuditEntriesAsync(), e => e.Action == "service.restart" && !e.Succeeded);
    }

    [Fact]
    public async Task A_container_of_another_project_cannot_be_reached_by_its_name_or_id()
    {
        var control = await ControlForAsync(PanelRoles.Admin);
        var otherId = await _otherProject.IdOfAsync("grafana");

        await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync($"{_otherProject.Name}-grafana-1", ServiceAction.Stop));
        await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync(otherId, ServiceAction.Stop));
        await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync(otherId[..12], ServiceAction.Stop));

        Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", otherId));
    }

    [Fact]
    public async Task The_portals_own_service_cannot_be_stopped_or_restarted()
    {
        var control = await ControlForAsync(PanelRoles.Admin);
        var id = await _project.IdOfAsync("panel");

        var refused = await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync("panel", ServiceAction.Stop));
        await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync("panel", ServiceAction.Restart));

        Assert.Contains("part of the portal", refused.Message);
        Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", id));
    }

    [Fact]
    public async Task A_viewer_calling_the_action_directly_is_refused_at_the_server_and_the_refusal_is_audited()
    {
        var (viewer, control) = await SignedInControlAsync(PanelRoles.Viewer);
        var id = await _project.IdOfAsync("grafana");

        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => control.RunAsync("grafana", ServiceAction.Stop));
        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => control.RunStackAsync(ServiceAction.Stop));

        Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", id));
        var refusals = (await AuditEntriesAsync()).Where(e => e.User == viewer && !e.Succeeded).ToList();
        Assert.Contains(refusals, e => e.Action == "service.stop" && e.Target == "grafana" && e.Error!.Contains("Instructor"));
        Assert.Contains(refusals, e => e.Action == "stack.stop" && e.Target == _project.Name);
        Assert.Equal(2, refusals.Count);
    }

    [Fact]
    public async Task The_whole_stack_stops_in_reverse_and_starts_in_dependency_order_leaving_the_portal_alone()
    {
        var control = await ControlForAsync(PanelRoles.Instructor);
        var steps = new List<string>();

        await control.RunStackAsync(ServiceAction.Stop, new SynchronousProgress(steps));
        Assert.Equal("exited", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", await _project.IdOfAsync("postgres")));
        Assert.Equal("running", await DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", await _project.IdOfAsync("panel")));

        await control.RunStackAsync(ServiceAction.Start, new SynchronousProgress(steps));

        var postgresStarted = DateTimeOffset.Parse(await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", await _project.IdOfAsync("postgres")));
        var grafanaStarted = DateTimeOffset.Parse(await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", await _project.IdOfAsync("grafana")));
        Assert.True(postgresStarted <= grafanaStarted, "postgres must start before grafana, which depends on it");
        Assert.True(steps.IndexOf("Stopping grafana…") < steps.IndexOf("Stopping postgres…"));
        Assert.DoesNotContain(steps, s => s.Contains("panel"));
    }

    [Fact]
    public async Task A_second_whole_stack_operation_is_refused_while_one_runs()
    {
        var control = await ControlForAsync(PanelRoles.Instructor);
        var stackLock = _app.Services.GetRequiredService<StackLock>();
        using var held = stackLock.Acquire("a reset of the lab");

        var busy = await Assert.ThrowsAsync<StackBusyException>(() => control.RunStackAsync(ServiceAction.Restart));

        Assert.Contains("a reset of the lab", busy.Message);
    }

    [Fact]
    public async Task Actions_from_the_page_wait_for_a_whole_stack_job_a_script_queued_and_are_audited_as_refused()
    {
        var (instructor, control) = await SignedInControlAsync(PanelRoles.Instructor);
        var started = await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", await _project.IdOfAsync("grafana"));
        // Queued where no job server reads, as a job queued by an earlier run of the portal that has not begun.
        var jobs = _app.Services.GetRequiredService<IBackgroundJobClient>();
        var queued = jobs.Create<StackActionJob>(job => job.RunAsync(ServiceAction.Stop, "script@panel.test", null, CancellationToken.None), new EnqueuedState("unserved"));
        try
        {
            var busy = await Assert.ThrowsAsync<StackBusyException>(() => control.RunStackAsync(ServiceAction.Restart));
            var oneService = await Assert.ThrowsAsync<StackActionRefusedException>(() => control.RunAsync("grafana", ServiceAction.Restart));

            Assert.Contains("a stop of the whole stack asked for by script@panel.test is queued to run", busy.Message);
            Assert.Contains("a stop of the whole stack asked for by script@panel.test is queued to run", oneService.Message);
            Assert.Equal(started, await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}}", await _project.IdOfAsync("grafana")));
            Assert.Contains(await AuditEntriesAsync(), e => e.Action == "stack.restart" && e.User == instructor && !e.Succeeded && e.Error == busy.Message);
        }
        finally
        {
            jobs.Delete(queued);
        }

        // Once the job is gone, the page's action runs.
        Assert.StartsWith("The stack was restarted", await control.RunStackAsync(ServiceAction.Restart));
    }

    [Fact]
    public async Task Logs_of_a_service_are_read_and_followed_through_the_snapshot()
    {
        await _project.RunAsync("loki", "sh", "-c", "echo first; echo oops >&2; while sleep 1; do echo tick; done");
        var snapshot = _app.Services.GetRequiredService<StackSnapshot>();
        await Eventually.HoldsAsync(() => snapshot.Current.Find("loki") is not null, TimeSpan.FromSeconds(30), "loki in the snapshot");
        using var scope = _app.Services.CreateScope();
        var logs = scope.ServiceProvider.GetRequiredService<StackLogs>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var lines = new List<ServiceLogLine>();
        await foreach (var line in logs.ReadAsync(["loki"], 100, follow: true, cts.Token))
        {
            lines.Add(line);
            if (lines.Count(l => l.Text == "tick") >= 2)
            {
                break;
            }
        }

        Assert.Contains(lines, l => l.Text == "first" && l.Stream == LogStream.Stdout);
        Assert.Contains(lines, l => l.Text == "oops" && l.Stream == LogStream.Stderr);
        Assert.All(lines, l => Assert.Equal("loki", l.Service));
    }

    private async Task<IStackControl> ControlForAsync(string role) => (await SignedInControlAsync(role)).Control;

    /// <summary>The portal's control as a newly created user of <paramref name="role"/> would call it, and their e-mail.</summary>
    private async Task<(string User, IStackControl Control)> SignedInControlAsync(string role)
    {
        var scope = _app.Services.CreateScope();
        var (user, gate) = await TestAccounts.SignedInAsync(scope.ServiceProvider, role);
        return (user.Email!, ActivatorUtilities.CreateInstance<StackControl>(scope.ServiceProvider, gate));
    }

    private async Task<List<AuditRecord>> AuditEntriesAsync()
    {
        using var scope = _app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PanelDbContext>();
        return db.Set<AuditEntry>().AsEnumerable().Select(e => new AuditRecord(e.User, e.Action, e.Target, e.Succeeded, e.Error)).ToList();
    }


    /// <summary>IProgress that records in order, on the caller's thread (Progress&lt;T&gt; posts asynchronously).</summary>
    private sealed class SynchronousProgress(List<string> steps) : IProgress<string>
    {
        public void Report(string value) => steps.Add(value);
    }
}
