using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Resets.Jobs;
using GrafanaPanel.Web.Features.Schedules;
using GrafanaPanel.Web.Features.WebSecurity;
using Hangfire.Storage;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Resets;

/// <summary>Resets through the service and the Hangfire job, on the real engine and a real PostgreSQL.</summary>
public sealed class ResetTests : IAsyncLifetime
{
    private ResetLab _lab = default!;

    // Each test starts its lab, some with other health checks.
    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_lab is not null)
        {
            await _lab.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_reset_to_a_captured_baseline_puts_every_volume_back_byte_for_byte_and_every_service_is_healthy()
    {
        _lab = await ResetLab.StartAsync();
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;
        var baseline = await _lab.CaptureAsync(service, "clean stack");
        Assert.Equal(BackupSetStatus.Completed, baseline.Set!.Status);
        Assert.True(baseline.Set.Pinned);
        Assert.Equal([_lab.AppVolume, _lab.DbVolume], baseline.Set.Volumes.Select(v => v.VolumeName).Order(StringComparer.Ordinal));
        var dbBefore = await BackupRig.FingerprintAsync(_lab.DbVolume);
        var appBefore = await BackupRig.FingerprintAsync(_lab.AppVolume);
        var panelBefore = await BackupRig.FingerprintAsync(_lab.PanelVolume);
        var panelStarted = await ResetLab.StartedAtAsync(_lab.Containers["panel"]);

        await BackupRig.ScribbleAsync(_lab.DbVolume);
        await BackupRig.ScribbleAsync(_lab.AppVolume);
        Assert.NotEqual(dbBefore, await BackupRig.FingerprintAsync(_lab.DbVolume));

        var runId = await service.RequestResetAsync(new ResetRequest(baseline.Id, null, SafetyBackup: true, Confirmation: _lab.Project.Name));
        var run = await _lab.FinishedAsync(runId);

        Assert.True(run.Status == ResetStatus.Succeeded, run.Error);
        Assert.Equal(dbBefore, await BackupRig.FingerprintAsync(_lab.DbVolume));
        Assert.Equal(appBefore, await BackupRig.FingerprintAsync(_lab.AppVolume));
        foreach (var name in new[] { "db", "app", "worker", "panel" })
        {
            Assert.Equal("running", await ResetLab.StateAsync(_lab.Containers[name]));
        }

        // The portal's own service and volume are never in scope.
        Assert.Equal(panelStarted, await ResetLab.StartedAtAsync(_lab.Containers["panel"]));
        Assert.Equal(panelBefore, await BackupRig.FingerprintAsync(_lab.PanelVolume));
        Assert.DoesNotContain(run.Steps, s => s.Target == "panel");

        // The step log: stop dependents first, start dependencies first, each service healthy.
        Assert.All(run.Steps, s => Assert.Equal(ResetStepStatus.Done, s.Status));
        var stops = run.Steps.Where(s => s.Kind == ResetStepKind.Stop).Select(s => s.Target).ToList();
        var starts = run.Steps.Where(s => s.Kind == ResetStepKind.Start).Select(s => s.Target).ToList();
        Assert.True(stops.IndexOf("app") < stops.IndexOf("db"), string.Join(",", stops));
        Assert.True(starts.IndexOf("db") < starts.IndexOf("app"), string.Join(",", starts));
        Assert.Equal(["app", "db", "worker"], run.Steps.Where(s => s.Kind == ResetStepKind.Health).Select(s => s.Target!).Order(StringComparer.Ordinal));
        Assert.Equal(2, run.Steps.Count(s => s.Kind == ResetStepKind.Restore));
        Assert.True(run.DurationMs > 0);

        // The safety backup holds the scribbled state, in the catalog as a pre-reset set.
        var safety = await _lab.DbAsync(db => db.BackupSets.AsNoTracking().SingleAsync(s => s.Id == run.SafetySetId));
        Assert.Equal((BackupTrigger.PreReset, BackupSetStatus.Completed), (safety.Trigger, safety.Status));

        var audit = await _lab.DbAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Action.StartsWith("reset.")).ToListAsync());
        Assert.Contains(audit, e => e.Action == ResetAuditActions.Request && e.Succeeded);
        Assert.Contains(audit, e => e.Action == ResetAuditActions.Run && e.Succeeded && e.Target.Contains("clean stack"));

        // The same reset again gives the same result.
        await BackupRig.ScribbleAsync(_lab.AppVolume);
        var again = await _lab.FinishedAsync(await service.RequestResetAsync(new ResetRequest(baseline.Id, null, false, _lab.Project.Name)));
        Assert.True(again.Status == ResetStatus.Succeeded, again.Error);
        Assert.Null(again.SafetySetId);
        Assert.Equal(dbBefore, await BackupRig.FingerprintAsync(_lab.DbVolume));
        Assert.Equal(appBefore, await BackupRig.FingerprintAsync(_lab.AppVolume));
    }

    [Fact]
    public async Task A_factory_reset_of_one_service_empties_its_volume_and_leaves_the_rest_alone()
    {
        _lab = await ResetLab.StartAsync();
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;
        var dbBefore = await BackupRig.FingerprintAsync(_lab.DbVolume);
        var dbStarted = await ResetLab.StartedAtAsync(_lab.Containers["db"]);

        // One service: no name to type.
        var run = await _lab.FinishedAsync(await service.RequestResetAsync(new ResetRequest(null, ["app"], SafetyBackup: true, Confirmation: null)));

        Assert.True(run.Status == ResetStatus.Succeeded, run.Error);
        Assert.Equal("", await BackupRig.InVolumeAsync(_lab.AppVolume, "ls -A /d", readOnly: true));
        Assert.Equal(dbBefore, await BackupRig.FingerprintAsync(_lab.DbVolume));
        Assert.Equal(dbStarted, await ResetLab.StartedAtAsync(_lab.Containers["db"]));
        Assert.Equal("running", await ResetLab.StateAsync(_lab.Containers["app"]));
        Assert.Equal(ResetOptions.FactoryName, run.BaselineName);
        Assert.Equal(["app"], run.Services);
        Assert.Contains(run.Steps, s => s.Kind == ResetStepKind.Empty && s.Target == _lab.AppVolume && s.Status == ResetStepStatus.Done);

        // Nothing lost: the safety backup holds what was emptied, byte for byte.
        var safety = await _lab.DbAsync(db => db.BackupSets.AsNoTracking().Include(s => s.Volumes).SingleAsync(s => s.Id == run.SafetySetId));
        Assert.Equal([_lab.AppVolume], safety.Volumes.Select(v => v.VolumeName));
        Assert.True(safety.Volumes[0].Entries > 2000);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_the_reason_and_change_nothing()
    {
        _lab = await ResetLab.StartAsync();
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;
        var started = await ResetLab.StartedAtAsync(_lab.Containers["db"]);

        var unconfirmed = await Assert.ThrowsAsync<ResetRefusedException>(() => service.RequestResetAsync(new ResetRequest(null, null, true, "grafana-training")));
        Assert.Contains($"type its name \"{_lab.Project.Name}\"", unconfirmed.Message);
        var portal = await Assert.ThrowsAsync<ResetRefusedException>(() => service.RequestResetAsync(new ResetRequest(null, ["panel"], true, null)));
        Assert.Contains("portal itself", portal.Message);
        foreach (var bad in new[] { "../db", "db\n", "%2e%2e", "d" })
        {
            var unknown = await Assert.ThrowsAsync<ResetRefusedException>(() => service.RequestResetAsync(new ResetRequest(null, [bad], true, null)));
            Assert.Contains("no service named", unknown.Message);
        }

        var missing = await Assert.ThrowsAsync<ResetRefusedException>(() => service.RequestResetAsync(new ResetRequest(Guid.NewGuid(), ["db"], true, null)));
        Assert.Contains("No such baseline", missing.Message);
        var factoryName = await Assert.ThrowsAsync<ResetRefusedException>(() => service.CaptureBaselineAsync(new BaselineInput("Factory", null, null)));
        Assert.Contains("built-in", factoryName.Message);

        var (viewer, viewerScope) = await _lab.ServiceForAsync(PanelRoles.Viewer);
        using (viewerScope)
        {
            await Assert.ThrowsAsync<PanelAccessDeniedException>(() => viewer.RequestResetAsync(new ResetRequest(null, ["db"], true, null)));
            await Assert.ThrowsAsync<PanelAccessDeniedException>(() => viewer.CaptureBaselineAsync(new BaselineInput("x-start", null, null)));
        }

        Assert.Equal(0, await _lab.DbAsync(db => db.ResetRuns.CountAsync()));
        Assert.Equal(0, await _lab.DbAsync(db => db.Baselines.CountAsync()));
        Assert.Equal(started, await ResetLab.StartedAtAsync(_lab.Containers["db"]));
        var refusals = await _lab.DbAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Action == ResetAuditActions.Request && !e.Succeeded).CountAsync());
        Assert.True(refusals >= 8, $"{refusals} refusals audited");
    }

    [Fact]
    public async Task Of_two_reset_requests_at_once_exactly_one_runs_and_the_other_is_refused_naming_it()
    {
        _lab = await ResetLab.StartAsync();
        var (first, firstScope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        var (second, secondScope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = firstScope;
        using var __ = secondScope;

        var attempts = await Task.WhenAll(
            Attempt(() => first.RequestResetAsync(new ResetRequest(null, ["worker"], false, null))),
            Attempt(() => second.RequestResetAsync(new ResetRequest(null, ["worker"], false, null))));

        var queued = Assert.Single(attempts, a => a.Id is not null);
        var refused = Assert.Single(attempts, a => a.Error is not null);
        // Refused by the one-active-reset rule, or by the stack lock if the first had started: either way naming it.
        Assert.Contains("reset to baseline \"factory\" asked for by", refused.Error);
        var run = await _lab.FinishedAsync(queued.Id!.Value);
        Assert.True(run.Status == ResetStatus.Succeeded, run.Error);
        Assert.Equal(1, await _lab.DbAsync(db => db.ResetRuns.CountAsync()));

        static async Task<(Guid? Id, string? Error)> Attempt(Func<Task<Guid>> request)
        {
            try
            {
                return (await request(), null);
            }
            catch (ResetRefusedException e)
            {
                return (null, e.Message);
            }
        }
    }

    [Fact]
    public async Task While_a_reset_runs_other_stack_changing_jobs_are_refused_naming_it_and_a_second_delivery_does_nothing()
    {
        // "app" turns healthy only once the test says so, which holds the reset in its health wait.
        _lab = await ResetLab.StartAsync(appHealth: "test -f /tmp/go");
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;

        var runId = await service.RequestResetAsync(new ResetRequest(null, ["app"], false, null));
        await Eventually.ReturnsAsync(() => _lab.RunOfAsync(runId), r => r.Steps.Any(s => s.Kind == ResetStepKind.Health && s.Status == ResetStepStatus.Running),
            TimeSpan.FromSeconds(60), "the reset to wait for app's health");

        var stackLock = _lab.App.Services.GetRequiredService<StackLock>();
        Assert.Contains("reset to baseline \"factory\"", stackLock.Holder);
        var busy = Assert.Throws<StackBusyException>(() => stackLock.Acquire("restore of set x"));
        Assert.Contains("reset to baseline", busy.Message);
        var second = await Assert.ThrowsAsync<ResetRefusedException>(() => service.RequestResetAsync(new ResetRequest(null, ["worker"], false, null)));
        Assert.Contains("is running", second.Message);

        // A second delivery of the same job finds the run no longer queued and touches nothing.
        using (var jobScope = _lab.App.Services.CreateScope())
        {
            await jobScope.ServiceProvider.GetRequiredService<ResetJob>().RunAsync(runId, CancellationToken.None);
        }

        await DockerCli.RunAsync("exec", _lab.Containers["app"], "touch", "/tmp/go");
        var run = await _lab.FinishedAsync(runId);
        Assert.True(run.Status == ResetStatus.Succeeded, run.Error);
        Assert.Single(run.Steps, s => s.Kind == ResetStepKind.Stop);
        Assert.Null(stackLock.Holder);
    }

    [Fact]
    public async Task A_service_that_never_turns_healthy_fails_the_reset_after_the_timeout_with_its_name_and_the_rest_keeps_running()
    {
        _lab = await ResetLab.StartAsync(appHealth: "echo database not reachable; exit 1", healthTimeout: "00:00:06");
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;

        var run = await _lab.FinishedAsync(await service.RequestResetAsync(new ResetRequest(null, null, false, _lab.Project.Name)));

        Assert.Equal(ResetStatus.Failed, run.Status);
        Assert.StartsWith("app did not become healthy within 6 s", run.Error);
        Assert.Contains("database not reachable", run.Error);
        var health = run.Steps.Where(s => s.Kind == ResetStepKind.Health).ToDictionary(s => s.Target!, s => s.Status);
        Assert.Equal(ResetStepStatus.Failed, health["app"]);
        Assert.Equal(ResetStepStatus.Done, health["db"]);
        Assert.Equal(ResetStepStatus.Done, health["worker"]);
        foreach (var name in new[] { "db", "app", "worker" })
        {
            Assert.Equal("running", await ResetLab.StateAsync(_lab.Containers[name]));
        }

        Assert.False(run.Active);
        var audit = await _lab.DbAsync(db => db.AuditEntries.AsNoTracking().SingleAsync(e => e.Action == ResetAuditActions.Run));
        Assert.False(audit.Succeeded);
        Assert.Contains("app did not become healthy", audit.Error);
    }

    [Fact]
    public async Task The_reset_api_queues_a_reset_for_instructors_and_refuses_viewers_bad_input_and_a_second_reset()
    {
        _lab = await ResetLab.StartAsync(appHealth: "test -f /tmp/go");
        using (var scope = _lab.App.Services.CreateScope())
        {
            await TestAccounts.CreateAsync(scope.ServiceProvider, "viewer@panel.test", PanelRoles.Viewer);
            await TestAccounts.CreateAsync(scope.ServiceProvider, "instructor@panel.test", PanelRoles.Instructor);
        }

        using var anonymous = _lab.App.CreateAnonymousClient();
        using (var response = await anonymous.PostAsJsonAsync("/api/resets", new { services = new[] { "app" } }))
        {
            Assert.NotEqual(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        using var viewer = await _lab.App.CreateSignedInClientAsync("viewer@panel.test", TestAccounts.Password);
        viewer.DefaultRequestHeaders.Add(CrossOriginWriteGuard.HeaderName, "1");
        using (var response = await viewer.PostAsJsonAsync("/api/resets", new { services = new[] { "app" } }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
        }

        // The role before the fields: a baseline that does not exist is not the viewer's to learn about.
        using (var response = await viewer.PostAsJsonAsync("/api/resets", new { baseline = "no-such-baseline", services = new[] { "app" } }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
        }

        using var instructor = await _lab.App.CreateSignedInClientAsync("instructor@panel.test", TestAccounts.Password);
        instructor.DefaultRequestHeaders.Add(CrossOriginWriteGuard.HeaderName, "1");
        using (var response = await instructor.PostAsJsonAsync("/api/resets", new { baseline = "no-such-baseline", services = new[] { "app" } }))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("no baseline named", await response.Content.ReadAsStringAsync());
        }

        using (var response = await instructor.PostAsJsonAsync("/api/resets", new { services = Array.Empty<string>() }))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("type its name", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, await _lab.DbAsync(db => db.ResetRuns.CountAsync()));

        Guid id;
        using (var response = await instructor.PostAsJsonAsync("/api/resets", new { services = new[] { "app" }, safetyBackup = false }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
            id = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetGuid();
            Assert.Equal($"/api/resets/{id}", response.Headers.Location?.OriginalString);
        }

        using (var response = await instructor.PostAsJsonAsync("/api/resets", new { services = new[] { "worker" } }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Conflict, response.StatusCode);
            // Queued or already holding the stack lock: either way the refusal names the running reset.
            var error = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("error").GetString();
            Assert.Contains("reset to baseline \"factory\" asked for by instructor@panel.test", error);
        }

        await Eventually.ReturnsAsync(() => _lab.RunOfAsync(id), r => r.Steps.Any(s => s.Kind == ResetStepKind.Health && s.Status == ResetStepStatus.Running),
            TimeSpan.FromSeconds(60), "the reset to wait for app's health");
        await DockerCli.RunAsync("exec", _lab.Containers["app"], "touch", "/tmp/go");
        var status = await Eventually.ReturnsAsync(
            async () => await viewer.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/resets/{id}"),
            r => r.GetProperty("status").GetString() is "succeeded" or "failed", TimeSpan.FromSeconds(60), "the reset to finish");
        Assert.Equal("succeeded", status.GetProperty("status").GetString());
        Assert.Contains(status.GetProperty("steps").EnumerateArray(), s => s.GetProperty("kind").GetString() == "empty");
    }

    [Fact]
    public async Task Reset_schedules_validate_their_cron_fire_as_a_scheduled_reset_and_keep_their_baseline_from_deletion()
    {
        _lab = await ResetLab.StartAsync();
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;
        var baseline = await _lab.CaptureAsync(service, "module-2-start");

        foreach (var (cron, expected) in new[] { ("0 30 6 * * *", "six fields"), ("30 6 ? * *", "Quartz"), ("30 6 * *", "4 field"), ("", "Enter a cron"), ("0 0 30 2 *", "never") })
        {
            var refused = await Assert.ThrowsAsync<ScheduleValidationException>(() =>
                service.CreateScheduleAsync(new ResetScheduleInput("before class", cron, "UTC", baseline.Id, ["app"], true)));
            Assert.Contains(expected, refused.Message);
        }

        var badZone = await Assert.ThrowsAsync<ScheduleValidationException>(() =>
            service.CreateScheduleAsync(new ResetScheduleInput("before class", "30 6 * * 1-5", "Mars/Olympus", baseline.Id, ["app"], true)));
        Assert.Contains("Mars/Olympus", badZone.Message);
        var badScope = await Assert.ThrowsAsync<ResetRefusedException>(() =>
            service.CreateScheduleAsync(new ResetScheduleInput("before class", "30 6 * * 1-5", "UTC", baseline.Id, ["panel"], true)));
        Assert.Contains("portal itself", badScope.Message);
        Assert.Empty(await service.ListSchedulesAsync());

        var scheduleId = await service.CreateScheduleAsync(new ResetScheduleInput("before class", "30 6 * * 1-5", "Europe/Berlin", baseline.Id, ["app"], false));
        var recurring = _lab.App.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection().GetRecurringJobs().Single(j => j.Id == ResetScheduler.JobId(scheduleId));
        Assert.Equal("30 6 * * 1-5", recurring.Cron);
        Assert.Equal("Europe/Berlin", recurring.TimeZoneId);

        var inUse = await Assert.ThrowsAsync<ResetRefusedException>(() => service.DeleteBaselineAsync(baseline.Id));
        Assert.Contains("\"before class\"", inUse.Message);

        // The schedule fires: a reset by schedule:<name>, to its baseline, on its services.
        await BackupRig.ScribbleAsync(_lab.AppVolume);
        using (var jobScope = _lab.App.Services.CreateScope())
        {
            await jobScope.ServiceProvider.GetRequiredService<ScheduledResetJob>().RunAsync(scheduleId, CancellationToken.None);
        }

        var run = await _lab.DbAsync(db => db.ResetRuns.AsNoTracking().SingleAsync(r => r.ScheduleId == scheduleId));
        Assert.True(run.Status == ResetStatus.Succeeded, run.Error);
        Assert.Equal(("schedule:before class", ResetTrigger.Schedule, "module-2-start"), (run.RequestedBy, run.Trigger, run.BaselineName));
        Assert.Equal(["app"], run.Services);
        Assert.Contains(run.Steps, s => s.Kind == ResetStepKind.Restore && s.Target == _lab.AppVolume);

        // Paused: no recurring job; deleted: the baseline can go, and its set stays, unpinned.
        await service.SetSchedulePausedAsync(scheduleId, true);
        Assert.DoesNotContain(_lab.App.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection().GetRecurringJobs(), j => j.Id == ResetScheduler.JobId(scheduleId));
        await service.DeleteScheduleAsync(scheduleId);
        await service.DeleteBaselineAsync(baseline.Id);
        var set = await _lab.DbAsync(db => db.BackupSets.AsNoTracking().SingleAsync(s => s.Id == baseline.SetId));
        Assert.False(set.Pinned);
        Assert.Equal(BackupSetStatus.Completed, set.Status);
    }

    [Fact]
    public async Task A_postgresql_restart_during_a_reset_loses_no_step_and_the_outcome_is_recorded_once_it_is_back()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        _lab = await ResetLab.StartAsync(appHealth: "test -f /tmp/go", database: postgres.ConnectionString);
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;
        var runId = await service.RequestResetAsync(new ResetRequest(null, ["app"], false, null));
        await Eventually.ReturnsAsync(() => _lab.RunOfAsync(runId), r => r.Steps.Any(s => s.Kind == ResetStepKind.Health && s.Status == ResetStepStatus.Running),
            TimeSpan.FromSeconds(60), "the reset to wait for app's health");

        // The database goes away; while it is away, app turns healthy and the reset writes its last step and outcome.
        var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hub = _lab.App.Services.GetRequiredService<ResetProgressHub>();
        await postgres.StopAsync();
        hub.Changed += id => published.TrySetResult();
        await DockerCli.RunAsync("exec", _lab.Containers["app"], "touch", "/tmp/go");
        await published.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await postgres.StartAgainAsync();

        var run = await _lab.FinishedAsync(runId);
        Assert.True(run.Status == ResetStatus.Succeeded, run.Error);
        Assert.False(run.Active);
        Assert.All(run.Steps, s => Assert.Equal(ResetStepStatus.Done, s.Status));
        Assert.Equal("running", await ResetLab.StateAsync(_lab.Containers["app"]));

        // Nothing is left blocking: the next reset is accepted.
        var next = await _lab.FinishedAsync(await service.RequestResetAsync(new ResetRequest(null, ["worker"], false, null)));
        Assert.Equal(ResetStatus.Succeeded, next.Status);
    }

    [Fact]
    public async Task A_restore_that_fails_half_way_puts_every_touched_volume_back_from_the_safety_backup()
    {
        _lab = await ResetLab.StartAsync();
        var (service, scope) = await _lab.ServiceForAsync(PanelRoles.Instructor);
        using var _ = scope;
        var baseline = await _lab.CaptureAsync(service, "clean stack");
        // After the baseline: more data, and a safety backup big enough to take a moment.
        await BackupRig.ScribbleAsync(_lab.DbVolume);
        await BackupRig.InVolumeAsync(_lab.AppVolume, "head -c 104857600 /dev/urandom > /d/big.bin");
        var dbBefore = await BackupRig.FingerprintAsync(_lab.DbVolume);
        var appBefore = await BackupRig.FingerprintAsync(_lab.AppVolume);

        var runId = await service.RequestResetAsync(new ResetRequest(baseline.Id, null, SafetyBackup: true, _lab.Project.Name));
        // Once the archives have been checked, the baseline's archive of db (restored after app's) goes bad on disk.
        await Eventually.ReturnsAsync(() => _lab.RunOfAsync(runId), r => r.Steps.Any(s => s.Kind == ResetStepKind.Check && s.Status == ResetStepStatus.Done),
            TimeSpan.FromSeconds(60), "the check to pass");
        var archive = Path.Combine(_lab.Directory, baseline.Set!.Folder, baseline.Set.Volumes.Single(v => v.VolumeName == _lab.DbVolume).FileName);
        var bytes = await File.ReadAllBytesAsync(archive);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(archive, bytes);

        var run = await _lab.FinishedAsync(runId);

        Assert.Equal(ResetStatus.Failed, run.Status);
        Assert.Contains("rolled back to the safety backup", run.Error);
        Assert.Contains(run.Steps, s => s.Kind == ResetStepKind.Restore && s.Target == _lab.AppVolume && s.Status == ResetStepStatus.Done);
        Assert.Contains(run.Steps, s => s.Kind == ResetStepKind.Restore && s.Target == _lab.DbVolume && s.Status == ResetStepStatus.Failed);
        Assert.Contains(run.Steps, s => s.Kind == ResetStepKind.Rollback && s.Status == ResetStepStatus.Done);
        Assert.Equal(dbBefore, await BackupRig.FingerprintAsync(_lab.DbVolume));
        Assert.Equal(appBefore, await BackupRig.FingerprintAsync(_lab.AppVolume));
        foreach (var name in new[] { "db", "app", "worker" })
        {
            Assert.Equal("running", await ResetLab.StateAsync(_lab.Containers[name]));
        }
    }
}
