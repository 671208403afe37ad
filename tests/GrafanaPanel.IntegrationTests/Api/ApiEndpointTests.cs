using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Api;

/// <summary>Every <c>/api/v1</c> route of the route table: 401 anonymous, 403 for a Viewer on actions, 400 naming the field, audit entries.</summary>
public sealed partial class ApiEndpointTests : IAsyncLifetime
{
    /// <summary>Actions a Viewer may take, as on the pages: their own tokens, and asking for a new volume measurement.</summary>
    private static readonly HashSet<string> ViewerActions =
    [
        "POST /api/v1/tokens", "DELETE /api/v1/tokens/{id}", "POST /api/v1/stack/volumes/measure",
    ];

    private readonly ApiPortal _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    /// <summary>Every /api/v1 route as "METHOD /pattern" with its constraints removed.</summary>
    private IReadOnlyList<string> Routes()
    {
        var routes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (pattern.StartsWith("/api/v1/", StringComparison.Ordinal))
            {
                foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
                {
                    routes.Add($"{method} {Constraint().Replace(pattern, "{$1}").TrimEnd('/')}");
                }
            }
        }

        return [.. routes];
    }

    /// <summary>The viewer refusal table: every action and a body its endpoint accepts, so that only the role stops it.</summary>
    private Dictionary<string, (string Path, object? Body, string AuditAction)> ViewerRefusals(string moduleId) => new()
    {
        ["POST /api/v1/stack/services/{name}/{action}"] = ("/api/v1/stack/services/grafana/restart", null, "service.restart"),
        ["POST /api/v1/stack/{action}"] = ("/api/v1/stack/restart", null, "stack.restart"),
        ["POST /api/v1/modules/pre-class-check"] = ("/api/v1/modules/pre-class-check", null, "module.pre-class-check"),
        ["PUT /api/v1/modules/{id}/notes"] = ($"/api/v1/modules/{moduleId}/notes", new { markdown = "# hi" }, "module.notes-edit"),
        ["POST /api/v1/learners"] = ("/api/v1/learners", new { count = 1 }, "learner.create"),
        ["DELETE /api/v1/learners/{recordId}"] = ("/api/v1/learners/1", null, "learner.remove"),
        ["DELETE /api/v1/learners"] = ("/api/v1/learners", null, "learner.remove"),
        ["POST /api/v1/users"] = ("/api/v1/users", new { email = "new@panel.test", password = "Long-Enough-1234", role = "Viewer" }, "user.create"),
        ["PUT /api/v1/users/{id}/role"] = ("/api/v1/users/someone/role", new { role = "Admin" }, "user.set-role"),
        ["POST /api/v1/users/{id}/lock"] = ("/api/v1/users/someone/lock", null, "user.lock"),
        ["POST /api/v1/users/{id}/unlock"] = ("/api/v1/users/someone/unlock", null, "user.unlock"),
        ["POST /api/v1/users/{id}/password"] = ("/api/v1/users/someone/password", new { password = "Long-Enough-1234" }, "user.reset-password"),
        ["POST /api/v1/backups/sets"] = ("/api/v1/backups/sets", null, "backup.create"),
        ["POST /api/v1/backups/sets/{id}/verify"] = ($"/api/v1/backups/sets/{Guid.NewGuid()}/verify", null, "backup.verify"),
        ["POST /api/v1/backups/verify-all"] = ("/api/v1/backups/verify-all", null, "backup.verify"),
        ["POST /api/v1/backups/sets/{id}/restore"] = ($"/api/v1/backups/sets/{Guid.NewGuid()}/restore", new { }, "backup.restore"),
        ["DELETE /api/v1/backups/sets/{id}"] = ($"/api/v1/backups/sets/{Guid.NewGuid()}", null, "backup.delete"),
        ["PUT /api/v1/backups/sets/{id}/pin"] = ($"/api/v1/backups/sets/{Guid.NewGuid()}/pin", null, "backup.pin"),
        ["DELETE /api/v1/backups/sets/{id}/pin"] = ($"/api/v1/backups/sets/{Guid.NewGuid()}/pin", null, "backup.unpin"),
        ["POST /api/v1/backups/import"] = ("/api/v1/backups/import", null, "backup.import"),
        ["POST /api/v1/backups/rescan"] = ("/api/v1/backups/rescan", null, "backup.rescan"),
        ["POST /api/v1/backups/schedules"] = ("/api/v1/backups/schedules", new { name = "n", volumes = new[] { "v" }, cron = "0 2 * * *" }, "backup-schedule.create"),
        ["PUT /api/v1/backups/schedules/{id}"] = ($"/api/v1/backups/schedules/{Guid.NewGuid()}", new { name = "n", volumes = new[] { "v" }, cron = "0 2 * * *" }, "backup-schedule.update"),
        ["DELETE /api/v1/backups/schedules/{id}"] = ($"/api/v1/backups/schedules/{Guid.NewGuid()}", null, "backup-schedule.delete"),
        ["POST /api/v1/backups/schedules/{id}/pause"] = ($"/api/v1/backups/schedules/{Guid.NewGuid()}/pause", null, "backup-schedule.pause"),
        ["POST /api/v1/backups/schedules/{id}/resume"] = ($"/api/v1/backups/schedules/{Guid.NewGuid()}/resume", null, "backup-schedule.resume"),
        ["POST /api/v1/backups/schedules/{id}/run"] = ($"/api/v1/backups/schedules/{Guid.NewGuid()}/run", null, "backup-schedule.run-now"),
        ["POST /api/v1/backups/schedules/{id}/retention"] = ($"/api/v1/backups/schedules/{Guid.NewGuid()}/retention", null, "backup.retention"),
        ["POST /api/v1/resets"] = ("/api/v1/resets", new { baseline = "factory", services = new[] { "grafana" } }, "reset.request"),
        ["POST /api/v1/resets/baselines"] = ("/api/v1/resets/baselines", new { name = "clean" }, "baseline.capture"),
        ["PUT /api/v1/resets/baselines/{id}"] = ($"/api/v1/resets/baselines/{Guid.NewGuid()}", new { name = "clean" }, "baseline.update"),
        ["PUT /api/v1/resets/baselines/default"] = ("/api/v1/resets/baselines/default", new { baselineId = (Guid?)null }, "baseline.set-default"),
        ["DELETE /api/v1/resets/baselines/{id}"] = ($"/api/v1/resets/baselines/{Guid.NewGuid()}", null, "baseline.delete"),
        ["POST /api/v1/resets/schedules"] = ("/api/v1/resets/schedules", new { name = "n", cron = "0 7 * * *", baseline = "factory" }, "reset-schedule.create"),
        ["PUT /api/v1/resets/schedules/{id}"] = ($"/api/v1/resets/schedules/{Guid.NewGuid()}", new { name = "n", cron = "0 7 * * *", baseline = "factory" }, "reset-schedule.update"),
        ["DELETE /api/v1/resets/schedules/{id}"] = ($"/api/v1/resets/schedules/{Guid.NewGuid()}", null, "reset-schedule.delete"),
        ["POST /api/v1/resets/schedules/{id}/pause"] = ($"/api/v1/resets/schedules/{Guid.NewGuid()}/pause", null, "reset-schedule.pause"),
        ["POST /api/v1/resets/schedules/{id}/resume"] = ($"/api/v1/resets/schedules/{Guid.NewGuid()}/resume", null, "reset-schedule.resume"),
        ["POST /api/v1/resets/schedules/{id}/run"] = ($"/api/v1/resets/schedules/{Guid.NewGuid()}/run", null, "reset-schedule.run-now"),
    };

    [Fact]
    public async Task Every_route_answers_an_anonymous_call_with_a_401_problem()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var anonymous = _app.BearerClient(null);
        var routes = Routes();
        Assert.True(routes.Count > 50, $"only {routes.Count} routes");
        foreach (var route in routes)
        {
            var (method, pattern) = Split(route);
            var path = Placeholder().Replace(pattern, m => m.Groups[1].Value switch
            {
                "since" or "recordId" => "1",
                "kind" => "verify",
                "action" => "restart",
                _ => Guid.NewGuid().ToString(),
            });
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            var response = await anonymous.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{route}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Every_action_refuses_a_viewer_with_a_403_naming_the_role_and_the_refusal_is_audited()
    {
        var (viewer, secret, _) = await _app.TokenAsync(PanelRoles.Viewer);
        using var client = _app.BearerClient(secret);
        var moduleId = _app.Services.GetRequiredService<IModuleCatalog>().Current.Catalog.Modules.First().Id;
        var table = ViewerRefusals(moduleId);

        // A new action without a row here fails this test.
        var actions = Routes().Where(r => !r.StartsWith("GET ", StringComparison.Ordinal) && !ViewerActions.Contains(r)).ToList();
        Assert.Equal(actions.Order(StringComparer.Ordinal), table.Keys.Order(StringComparer.Ordinal));

        foreach (var (route, (path, body, auditAction)) in table)
        {
            using var request = new HttpRequestMessage(new HttpMethod(Split(route).Method), path)
            {
                Content = body is null ? null : JsonContent.Create(body),
            };
            var refusedBefore = await RefusalsAsync(auditAction, viewer.Email!);
            var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var problem = await ApiPortal.ProblemAsync(response);
            Assert.True(problem.TryGetProperty("requiredRole", out var role) && PanelRoles.Rank(role.GetString()) > PanelRoles.Rank(PanelRoles.Viewer), route);
            Assert.True(await RefusalsAsync(auditAction, viewer.Email!) == refusedBefore + 1, $"{route}: the refusal is not in the audit log as {auditAction}");
        }
    }

    /// <summary>
    /// Bad input for every endpoint that checks its fields: the route (as in the route table), the request, and the field
    /// its 400 names.
    /// </summary>
    private static (string Route, string Path, object? Body, string Field)[] BadInputs(string moduleId) =>
    [
        ("POST /api/v1/stack/services/{name}/{action}", "/api/v1/stack/services/grafana/jump", null, "action"),
        ("POST /api/v1/stack/{action}", "/api/v1/stack/jump", null, "action"),
        ("GET /api/v1/stack/logs", "/api/v1/stack/logs?tail=0", null, "tail"),
        ("GET /api/v1/audit", "/api/v1/audit?from=yesterday", null, "from"),
        ("GET /api/v1/audit", "/api/v1/audit?take=0", null, "take"),
        ("GET /api/v1/audit/export.csv", "/api/v1/audit/export.csv?to=soon", null, "to"),
        ("PUT /api/v1/modules/{id}/notes", $"/api/v1/modules/{moduleId}/notes", new { }, "markdown"),
        ("POST /api/v1/learners", "/api/v1/learners", new { count = 0 }, "count"),
        ("POST /api/v1/learners", "/api/v1/learners", new { count = 2, role = "Owner" }, "role"),
        ("POST /api/v1/users", "/api/v1/users", new { password = "Long-Enough-1234", role = "Viewer" }, "email"),
        ("POST /api/v1/users", "/api/v1/users", new { email = "a@panel.test", password = "Long-Enough-1234", role = "King" }, "role"),
        ("PUT /api/v1/users/{id}/role", "/api/v1/users/someone/role", new { role = "King" }, "role"),
        ("POST /api/v1/users/{id}/password", "/api/v1/users/someone/password", new { }, "password"),
        ("POST /api/v1/backups/sets", "/api/v1/backups/sets", new { }, "volumes"),
        ("POST /api/v1/backups/sets", "/api/v1/backups/sets", new { volumes = new[] { "no-such-volume" } }, "volumes"),
        ("GET /api/v1/backups/sets", "/api/v1/backups/sets?status=great", null, "status"),
        ("POST /api/v1/backups/schedules", "/api/v1/backups/schedules", new { name = "nightly" }, "volumes"),
        ("POST /api/v1/backups/schedules", "/api/v1/backups/schedules", new { name = "nightly", volumes = new[] { "v" }, cron = "0 2 * * *", mode = "fast" }, "mode"),
        ("PUT /api/v1/backups/schedules/{id}", $"/api/v1/backups/schedules/{Guid.NewGuid()}", new { volumes = new[] { "v" }, cron = "0 2 * * *" }, "name"),
        ("POST /api/v1/resets", "/api/v1/resets", new { baseline = "no-such-baseline", services = new[] { "grafana" } }, "baseline"),
        ("POST /api/v1/resets/baselines", "/api/v1/resets/baselines", new { }, "name"),
        ("PUT /api/v1/resets/baselines/{id}", $"/api/v1/resets/baselines/{Guid.NewGuid()}", new { description = "no name" }, "name"),
        ("POST /api/v1/resets/schedules", "/api/v1/resets/schedules", new { name = "weekday" }, "cron"),
        ("POST /api/v1/resets/schedules", "/api/v1/resets/schedules", new { name = "weekday", cron = "0 7 * * 1-5", baseline = "no-such-baseline" }, "baseline"),
        ("PUT /api/v1/resets/schedules/{id}", $"/api/v1/resets/schedules/{Guid.NewGuid()}", new { cron = "0 7 * * 1-5" }, "name"),
    ];

    [Fact]
    public async Task Bad_input_gets_a_400_problem_naming_the_field_and_changes_nothing()
    {
        var (_, secret, _) = await _app.TokenAsync(PanelRoles.Admin);
        using var client = _app.BearerClient(secret);
        var moduleId = _app.Services.GetRequiredService<IModuleCatalog>().Current.Catalog.Modules.First().Id;
        foreach (var (route, path, body, field) in BadInputs(moduleId))
        {
            var response = await SendAsync(client, Split(route).Method, path, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var problem = await ApiPortal.ProblemAsync(response);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{route} {path}: {problem}");
        }

        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task The_role_is_checked_before_the_fields_so_a_viewer_gets_the_same_403_for_bad_input_as_for_good()
    {
        var (viewer, secret, _) = await _app.TokenAsync(PanelRoles.Viewer);
        using var client = _app.BearerClient(secret);
        var moduleId = _app.Services.GetRequiredService<IModuleCatalog>().Current.Catalog.Modules.First().Id;
        var refusals = ViewerRefusals(moduleId);
        var failures = new List<string>();
        foreach (var (route, path, body, field) in BadInputs(moduleId))
        {
            var isAction = refusals.TryGetValue(route, out var refusal);
            // An action the stack does not have is refused (and audited) as what was asked for: service.jump, stack.jump.
            var auditAction = !isAction ? null
                : route.EndsWith("{action}", StringComparison.Ordinal) ? $"{refusal.AuditAction.Split('.')[0]}.{path[(path.LastIndexOf('/') + 1)..]}"
                : refusal.AuditAction;
            var refusedBefore = auditAction is null ? 0 : await RefusalsAsync(auditAction, viewer.Email!);
            var response = await SendAsync(client, Split(route).Method, path, body);
            var problem = await ApiPortal.ProblemAsync(response);
            if (!isAction)
            {
                // A read a Viewer may make: the fields are theirs to get wrong.
                Assert.True(route.StartsWith("GET ", StringComparison.Ordinal), $"{route} has no row in the viewer refusal table");
                if (response.StatusCode != HttpStatusCode.BadRequest || !problem.TryGetProperty("errors", out var errors) || !errors.TryGetProperty(field, out _))
                {
                    failures.Add($"{route} {path}: {(int)response.StatusCode} {problem}");
                }
            }
            else if (response.StatusCode != HttpStatusCode.Forbidden
                || !problem.TryGetProperty("requiredRole", out var role) || PanelRoles.Rank(role.GetString()) <= PanelRoles.Rank(PanelRoles.Viewer))
            {
                failures.Add($"{route} {path}: {(int)response.StatusCode} {problem}");
            }
            else if (auditAction is not null && await RefusalsAsync(auditAction, viewer.Email!) != refusedBefore + 1)
            {
                failures.Add($"{route} {path}: the refusal is not in the audit log as {auditAction}");
            }
        }

        // A module the catalog does not have is bad input too: the role comes before the 404.
        var unknownModule = await SendAsync(client, "PUT", "/api/v1/modules/no-such-module/notes", new { markdown = "# hi" });
        if (unknownModule.StatusCode != HttpStatusCode.Forbidden)
        {
            failures.Add($"PUT /api/v1/modules/no-such-module/notes: {(int)unknownModule.StatusCode} {await unknownModule.Content.ReadAsStringAsync()}");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task Actions_through_a_token_are_audited_as_its_owner_and_a_202_points_to_an_operation_that_ends()
    {
        var (instructor, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        using var client = _app.BearerClient(secret);
        var moduleId = _app.Services.GetRequiredService<IModuleCatalog>().Current.Catalog.Modules.First().Id;

        var notes = await client.PutAsJsonAsync($"/api/v1/modules/{moduleId}/notes", new { markdown = "Bring coffee." });
        Assert.Equal(HttpStatusCode.OK, notes.StatusCode);
        Assert.Equal("Bring coffee.", (await client.GetFromJsonAsync<JsonElement>($"/api/v1/modules/{moduleId}/notes")).GetProperty("markdown").GetString());
        Assert.Contains(await TestAudit.EntriesAsync(_app, "module.notes-edit"), e => e.Succeeded && e.User == instructor.Email && e.Target == moduleId);

        var rescan = await client.PostAsync("/api/v1/backups/rescan", null);
        Assert.Equal(HttpStatusCode.Accepted, rescan.StatusCode);
        Assert.Contains(await TestAudit.EntriesAsync(_app, "backup.rescan"), e => e.Succeeded && e.User == instructor.Email);
        var operation = await Eventually.ReturnsAsync(
            () => client.GetFromJsonAsync<JsonElement>(rescan.Headers.Location!),
            o => o.GetProperty("status").GetString() is Operation.Succeeded or Operation.Failed,
            TimeSpan.FromSeconds(60), "the rescan operation ends");
        Assert.Equal(Operation.Succeeded, operation.GetProperty("status").GetString());

        var unknownSet = await client.PostAsync($"/api/v1/backups/sets/{Guid.NewGuid()}/verify", null);
        Assert.Equal(HttpStatusCode.NotFound, unknownSet.StatusCode);
        Assert.Equal(404, (await ApiPortal.ProblemAsync(unknownSet)).GetProperty("status").GetInt32());
    }

    /// <summary>The bad-input table's writes would leave a backup schedule or module notes behind.</summary>
    private async Task AssertNothingSavedAsync()
    {
        Assert.Empty(await _app.DbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(db.BackupSchedules)));
        Assert.Null(await _app.DbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(db.ModuleNotes)));
    }

    private async Task<int> RefusalsAsync(string auditAction, string user) =>
        (await TestAudit.EntriesAsync(_app, auditAction)).Count(e => !e.Succeeded && e.User == user && e.Action == auditAction);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, object? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : JsonContent.Create(body) };
        return await client.SendAsync(request);
    }

    private static (string Method, string Pattern) Split(string route) => (route[..route.IndexOf(' ')], route[(route.IndexOf(' ') + 1)..]);

    [GeneratedRegex(@"\{([a-zA-Z]+)(:[^}]*)?\}")]
    private static partial Regex Constraint();

    [GeneratedRegex(@"\{([a-zA-Z]+)\}")]
    private static partial Regex Placeholder();
}
