using System.Net;
using System.Text.RegularExpressions;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>
/// The Hangfire dashboard at <c>/jobs</c>: the Admin role is read from the database on every request (not from the
/// cookie), and the dashboard is read-only, so no one requeues a restore or reset from it under another user's name.
/// </summary>
public sealed class JobsDashboardTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task An_admin_demoted_a_moment_ago_is_refused_at_once_though_the_cookie_still_says_admin()
    {
        using var client = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/jobs")).StatusCode);

        using (var scope = _app.Services.CreateScope())
        {
            // Straight in the store: no new security stamp, so the cookie keeps its Admin claim for up to a minute.
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            var admin = (await users.FindByEmailAsync(PanelAppFactory.AdminEmail))!;
            Assert.True((await users.RemoveFromRoleAsync(admin, PanelRoles.Admin)).Succeeded);
            Assert.True((await users.AddToRoleAsync(admin, PanelRoles.Instructor)).Succeeded);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/jobs/jobs/failed")).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_is_read_only_for_an_admin_too()
    {
        using var client = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        var page = await client.GetStringAsync("/jobs/jobs/failed");

        // A command posted with a valid antiforgery token is still refused.
        var header = Regex.Match(page, "<meta name=\"csrf-header\" content=\"([^\"]+)\"").Groups[1].Value;
        var token = Regex.Match(page, "<meta name=\"csrf-token\" content=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(header);
        using var requeue = new HttpRequestMessage(HttpMethod.Post, "/jobs/jobs/failed/requeue")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "1" }),
        };
        requeue.Headers.Add(header, token);

        var response = await client.SendAsync(requeue);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
