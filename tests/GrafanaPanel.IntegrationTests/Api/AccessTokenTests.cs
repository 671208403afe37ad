using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace GrafanaPanel.IntegrationTests.Api;

/// <summary>Personal access tokens on the real portal: storage, expiry, revocation, scope, demotion, and where they work.</summary>
public sealed class AccessTokenTests : IAsyncLifetime
{
    private readonly ApiPortal _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task Only_the_hash_is_stored_and_the_token_reads_the_api_with_its_last_use_and_creation_recorded()
    {
        var (user, secret, id) = await _app.TokenAsync(PanelRoles.Instructor);
        Assert.StartsWith("gp_", secret);

        // Every column of the row, as text: the secret is in none of them, its SHA-256 is the hash.
        await using (var connection = new NpgsqlConnection(_app.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT t::text FROM \"AccessTokens\" t", connection);
            var row = (string)(await command.ExecuteScalarAsync())!;
            Assert.DoesNotContain(secret, row);
            Assert.DoesNotContain(secret["gp_".Length..], row);
        }

        var stored = await _app.DbAsync(db => db.AccessTokens.SingleAsync(t => t.Id == id));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), stored.Hash);
        Assert.Null(stored.LastUsedAt);

        using var client = _app.BearerClient(secret);
        var response = await client.GetAsync("/api/v1/stack");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull((await _app.DbAsync(db => db.AccessTokens.SingleAsync(t => t.Id == id))).LastUsedAt);
        var created = Assert.Single(await TestAudit.EntriesAsync(_app, ApiAuditActions.TokenCreate));
        Assert.Equal(user.Email, created.User);
        Assert.True(created.Succeeded);
    }

    [Fact]
    public async Task An_expired_or_revoked_token_is_refused_and_revocation_and_the_use_of_a_revoked_token_are_audited()
    {
        var (_, expired, expiredId) = await _app.TokenAsync(PanelRoles.Viewer);
        await _app.DbAsync(db => db.AccessTokens.Where(t => t.Id == expiredId)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1))));
        using (var client = _app.BearerClient(expired))
        {
            var response = await client.GetAsync("/api/v1/stack");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(401, (await ApiPortal.ProblemAsync(response)).GetProperty("status").GetInt32());
        }

        var (owner, revoked, revokedId) = await _app.TokenAsync(PanelRoles.Viewer);
        using var revokedClient = _app.BearerClient(revoked);
        Assert.Equal(HttpStatusCode.OK, (await revokedClient.GetAsync("/api/v1/stack")).StatusCode);
        await (await _app.TokensOfAsync(owner)).RevokeAsync(revokedId);

        Assert.Equal(HttpStatusCode.Unauthorized, (await revokedClient.GetAsync("/api/v1/stack")).StatusCode);
        Assert.Single(await TestAudit.EntriesAsync(_app, ApiAuditActions.TokenRevoke), e => e.Succeeded && e.User == owner.Email);
        var use = Assert.Single(await TestAudit.EntriesAsync(_app, ApiAuditActions.TokenRevokedUse));
        Assert.Equal(owner.Email, use.User);
        Assert.Contains("/api/v1/stack", use.Error);
        using var unknown = _app.BearerClient("gp_" + new string('x', 43));
        Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.GetAsync("/api/v1/stack")).StatusCode);
    }

    [Fact]
    public async Task A_read_only_token_of_an_instructor_is_refused_actions_naming_the_role_needed()
    {
        var (_, readOnly, _) = await _app.TokenAsync(PanelRoles.Instructor, PanelRoles.Viewer);
        using var client = _app.BearerClient(readOnly);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/stack")).StatusCode);
        var refused = await client.PostAsync("/api/v1/stack/services/no-such-service/restart", null);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var problem = await ApiPortal.ProblemAsync(refused);
        Assert.Equal(PanelRoles.Instructor, problem.GetProperty("requiredRole").GetString());
        Assert.Contains("read-only", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_demoted_or_locked_owner_loses_the_tokens_rights_on_the_next_request()
    {
        var (user, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        using var client = _app.BearerClient(secret);
        // Past the role check: the service itself refuses the unknown name (400), which a Viewer never reaches.
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/v1/stack/services/no-such-service/restart", null)).StatusCode);

        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            var fresh = (await users.FindByIdAsync(user.Id))!;
            await users.RemoveFromRoleAsync(fresh, PanelRoles.Instructor);
            await users.AddToRoleAsync(fresh, PanelRoles.Viewer);
        }

        var demoted = await client.PostAsync("/api/v1/stack/services/no-such-service/restart", null);
        Assert.Equal(HttpStatusCode.Forbidden, demoted.StatusCode);
        Assert.Equal(PanelRoles.Instructor, (await ApiPortal.ProblemAsync(demoted)).GetProperty("requiredRole").GetString());

        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            await users.SetLockoutEndDateAsync((await users.FindByIdAsync(user.Id))!, DateTimeOffset.UtcNow.AddHours(1));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/stack")).StatusCode);
    }

    [Fact]
    public async Task A_token_works_on_api_v1_only_never_on_pages_the_hub_or_the_older_endpoints()
    {
        var (_, secret, _) = await _app.TokenAsync(PanelRoles.Admin);
        using var client = _app.BearerClient(secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/stack")).StatusCode);

        var page = await client.GetAsync("/admin/users");
        Assert.NotEqual(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("data-test=\"users-table\"", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/stack")).StatusCode);
        var hub = await client.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, hub.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await client.GetAsync("/jobs")).StatusCode);
    }

    [Fact]
    public async Task Anonymous_calls_get_a_401_problem_and_a_signed_in_browser_session_needs_the_header_to_write()
    {
        using var anonymous = _app.BearerClient(null);
        var response = await anonymous.GetAsync("/api/v1/stack");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(401, (await ApiPortal.ProblemAsync(response)).GetProperty("status").GetInt32());

        using var browser = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/stack")).StatusCode);
        var unmarked = await browser.PostAsync("/api/v1/tokens", JsonContent.Create(new { name = "x", scope = "Viewer", expiresInDays = 7 }));
        Assert.Equal(HttpStatusCode.Forbidden, unmarked.StatusCode);
        Assert.Contains(CrossOriginWriteGuard.HeaderName, (await ApiPortal.ProblemAsync(unmarked)).GetProperty("detail").GetString());
        Assert.Empty(await _app.DbAsync(db => db.AccessTokens.ToListAsync()));

        using var marked = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tokens")
        {
            Content = JsonContent.Create(new { name = "nightly reset", scope = "Instructor", expiresInDays = 7 }),
        };
        marked.Headers.Add(CrossOriginWriteGuard.HeaderName, "1");
        var created = await browser.SendAsync(marked);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("secret").GetString()!;
        _app.KnownSecrets.Add(secret);
        Assert.StartsWith("gp_", secret);
    }

    [Fact]
    public async Task Token_requests_are_checked_field_by_field_and_a_token_cannot_make_tokens()
    {
        var (user, secret, _) = await _app.TokenAsync(PanelRoles.Instructor);
        var service = await _app.TokensOfAsync(user);

        var above = await Assert.ThrowsAsync<AccessTokenRefusedException>(() => service.CreateAsync("ci", PanelRoles.Admin, 30));
        Assert.Equal("scope", above.Field);
        Assert.Equal("name", (await Assert.ThrowsAsync<AccessTokenRefusedException>(() => service.CreateAsync("  ", PanelRoles.Viewer, 30))).Field);
        Assert.Equal("expiresInDays", (await Assert.ThrowsAsync<AccessTokenRefusedException>(() => service.CreateAsync("ci", PanelRoles.Viewer, 0))).Field);

        using var client = _app.BearerClient(secret);
        var viaToken = await client.PostAsync("/api/v1/tokens", JsonContent.Create(new { name = "child", scope = "Viewer", expiresInDays = 7 }));
        Assert.Equal(HttpStatusCode.Forbidden, viaToken.StatusCode);
        Assert.Equal(1, await _app.DbAsync(db => db.AccessTokens.CountAsync(t => t.UserId == user.Id)));

        using var browser = await _app.CreateSignedInClientAsync(user.Email!, TestAccounts.Password);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tokens")
        {
            Content = JsonContent.Create(new { name = "ci", scope = "Admin", expiresInDays = 7 }),
        };
        request.Headers.Add(CrossOriginWriteGuard.HeaderName, "1");
        var bad = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await ApiPortal.ProblemAsync(bad)).GetProperty("errors").TryGetProperty("scope", out _));
        var failures = await TestAudit.EntriesAsync(_app, ApiAuditActions.TokenCreate);
        Assert.Contains(failures, e => !e.Succeeded && e.User == user.Email);
    }

    [Fact]
    public async Task Measuring_volume_sizes_is_limited_per_token_with_429_and_retry_after()
    {
        var (_, first, _) = await _app.TokenAsync(PanelRoles.Viewer);
        var (_, second, _) = await _app.TokenAsync(PanelRoles.Viewer);
        using var client = _app.BearerClient(first);
        for (var i = 0; i < ApiPortal.ExpensiveCalls; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/api/v1/stack/volumes/measure", null)).StatusCode);
        }

        var limited = await client.PostAsync("/api/v1/stack/volumes/measure", null);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 600);
        Assert.Equal(429, (await ApiPortal.ProblemAsync(limited)).GetProperty("status").GetInt32());
        using var other = _app.BearerClient(second);
        Assert.Equal(HttpStatusCode.Accepted, (await other.PostAsync("/api/v1/stack/volumes/measure", null)).StatusCode);
    }
}
