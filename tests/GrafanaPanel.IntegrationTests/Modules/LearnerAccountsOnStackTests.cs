using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Modules;

/// <summary>Learner accounts created, listed and removed in the Grafana stand-in through its HTTP API, recorded in the real database.</summary>
[Collection(OfflineGrafanaCollection.Name)]
public sealed class LearnerAccountsOnStackTests(OfflineGrafana grafana) : IAsyncLifetime
{
    private readonly PanelAppFactory _app = grafana.Configure(new PanelAppFactory());

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Whatever a failed test left behind in Grafana, so the next test starts from learner-01.
        for (var n = 1; n <= 10; n++)
        {
            await grafana.DeleteGrafanaUserAsync($"learner-{n:D2}");
        }

        await ((IAsyncLifetime)_app).DisposeAsync();
    }

    public static LearnerAccounts LearnersFor(PanelAppFactory app, RoleGate gate) =>
        new(app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(), app.Services.GetRequiredService<IGrafanaApi>(), gate,
            app.Services.GetRequiredService<IAuditLog>(), TimeProvider.System);

    private async Task<LearnerAccounts> LearnersAsync(string role = PanelRoles.Instructor)
    {
        var (_, gate) = await TestAccounts.SignedInAsync(_app.Services, role);
        return LearnersFor(_app, gate);
    }

    private async Task<HttpStatusCode> SignInToGrafanaAsync(string login, string password)
    {
        using var http = new HttpClient { BaseAddress = new Uri(grafana.Url + "/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{login}:{password}")));
        using var response = await http.GetAsync("api/user");
        return response.StatusCode;
    }

    private async Task<int?> OrgIdAsync(string name)
    {
        using var response = await grafana.Admin.GetAsync($"api/orgs/name/{Uri.EscapeDataString(name)}");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32() : null;
    }

    private async Task<Dictionary<string, string>> MembersAsync(int orgId) =>
        (await grafana.Admin.GetFromJsonAsync<JsonElement>($"api/orgs/{orgId}/users")).EnumerateArray()
            .ToDictionary(m => m.GetProperty("login").GetString()!, m => m.GetProperty("role").GetString()!);

    private Task<List<AuditEntry>> AuditAsync() => TestAudit.EntriesAsync(_app, "learner.");

    [Fact]
    public async Task Learners_are_created_in_team_organizations_sign_in_with_the_password_shown_once_and_are_removed_with_their_teams()
    {
        var learners = await LearnersAsync();

        var created = await learners.CreateAsync(new LearnerRequest(3, Teams: 2, Role: "Editor"), CancellationToken.None);

        Assert.Equal(["learner-01", "learner-02", "learner-03"], created.Select(o => o.Login));
        Assert.All(created, o => Assert.True(o.Succeeded, o.Error));
        Assert.Equal(["Learners · Team 1", "Learners · Team 2", "Learners · Team 1"], created.Select(o => o.Team));
        foreach (var outcome in created)
        {
            Assert.Equal(HttpStatusCode.OK, await SignInToGrafanaAsync(outcome.Login, outcome.Password!));
        }

        var team1 = (await OrgIdAsync("Learners · Team 1"))!.Value;
        var members = await MembersAsync(team1);
        Assert.Equal("Editor", members["learner-01"]);
        Assert.Equal("Editor", members["learner-03"]);
        Assert.DoesNotContain("learner-02", members.Keys);

        // Kept nowhere: not in the learner records, not in the audit log.
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync())
        {
            var stored = JsonSerializer.Serialize(await db.LearnerAccounts.ToListAsync()) + JsonSerializer.Serialize(await db.AuditEntries.ToListAsync());
            Assert.All(created, o => Assert.DoesNotContain(o.Password!, stored));
        }

        var listed = await learners.ListAsync(CancellationToken.None);
        Assert.Equal(["learner-01", "learner-02", "learner-03"], listed.Select(l => l.Login));
        Assert.All(listed, l => Assert.Equal(LearnerState.Present, l.State));

        var removed = await learners.RemoveAllAsync(CancellationToken.None);

        Assert.All(removed, r => Assert.True(r.Succeeded, r.Message));
        Assert.Equal(5, removed.Count);
        foreach (var outcome in created)
        {
            Assert.Null(await grafana.UserIdAsync(outcome.Login));
        }

        Assert.Null(await OrgIdAsync("Learners · Team 1"));
        Assert.Null(await OrgIdAsync("Learners · Team 2"));
        Assert.Empty(await learners.ListAsync(CancellationToken.None));
        var audit = await AuditAsync();
        Assert.Equal(3, audit.Count(e => e.Action == AuditActions.LearnerCreate && e.Succeeded));
        Assert.Equal(3, audit.Count(e => e.Action == AuditActions.LearnerRemove && e.Succeeded));
        Assert.Equal(2, audit.Count(e => e.Action == AuditActions.LearnerTeamRemove && e.Succeeded));
        Assert.Contains(audit, e => e.Target == "learner-01 (Learners · Team 1)");
    }

    [Fact]
    public async Task A_failure_is_reported_for_the_learner_it_concerns_and_accounts_the_portal_did_not_create_are_neither_listed_nor_removed()
    {
        // Someone made learner-01 in Grafana by hand: it is not the portal's.
        await grafana.CreateGrafanaUserAsync("learner-01", "Made-by-hand-123!");
        var learners = await LearnersAsync();

        var created = await learners.CreateAsync(new LearnerRequest(2), CancellationToken.None);

        var failed = created.Single(o => o.Login == "learner-01");
        Assert.False(failed.Succeeded);
        Assert.Null(failed.Password);
        Assert.Contains("User already exists", failed.Error);
        Assert.True(created.Single(o => o.Login == "learner-02").Succeeded);
        Assert.Equal(["learner-02"], (await learners.ListAsync(CancellationToken.None)).Select(l => l.Login));

        var removed = await learners.RemoveAllAsync(CancellationToken.None);

        Assert.Equal(["learner-02"], removed.Select(r => r.Login));
        Assert.NotNull(await grafana.UserIdAsync("learner-01"));
        Assert.Null(await grafana.UserIdAsync("learner-02"));
        Assert.Contains(await AuditAsync(), e => e.Action == AuditActions.LearnerCreate && !e.Succeeded && e.Target == "learner-01"
                                                && e.Error!.Contains("User already exists"));
    }

    [Fact]
    public async Task A_recorded_id_that_grafana_gave_to_someone_else_is_never_deleted()
    {
        // As after a reset of Grafana's data: the record says learner-07 is user 1, which is now the admin.
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync())
        {
            db.LearnerAccounts.Add(new LearnerAccount { GrafanaUserId = 1, Login = "learner-07", CreatedAt = DateTimeOffset.UtcNow, CreatedBy = "someone" });
            await db.SaveChangesAsync();
        }

        var learners = await LearnersAsync();
        var listed = Assert.Single(await learners.ListAsync(CancellationToken.None));
        Assert.Equal(LearnerState.Replaced, listed.State);

        var removal = Assert.Single(await learners.RemoveAsync([listed.RecordId], CancellationToken.None));

        Assert.Contains("nothing was deleted in Grafana", removal.Message);
        Assert.NotNull(await grafana.UserIdAsync(grafana.AdminUser));
        Assert.Empty(await learners.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_viewer_may_not_create_or_remove_learners_and_the_refusal_is_audited()
    {
        var learners = await LearnersAsync(PanelRoles.Viewer);

        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => learners.CreateAsync(new LearnerRequest(2), CancellationToken.None));
        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => learners.RemoveAllAsync(CancellationToken.None));
        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => learners.ListAsync(CancellationToken.None));

        Assert.Null(await grafana.UserIdAsync("learner-01"));
        var audit = await AuditAsync();
        Assert.Equal(2, audit.Count);
        Assert.All(audit, e => Assert.False(e.Succeeded));
    }

    [Fact]
    public async Task A_request_out_of_bounds_is_refused_before_grafana_is_asked()
    {
        var learners = await LearnersAsync();

        var tooMany = await Assert.ThrowsAsync<LearnerRequestRejectedException>(() => learners.CreateAsync(new LearnerRequest(51), CancellationToken.None));
        var badRole = await Assert.ThrowsAsync<LearnerRequestRejectedException>(() => learners.CreateAsync(new LearnerRequest(2, 1, "Owner"), CancellationToken.None));

        Assert.Contains("between 1 and 50", tooMany.Message);
        Assert.Contains("Viewer, Editor, Admin", badRole.Message);
        Assert.Null(await grafana.UserIdAsync("learner-01"));
    }
}
