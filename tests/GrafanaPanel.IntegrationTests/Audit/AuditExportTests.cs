using System.Net;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GrafanaPanel.IntegrationTests.Audit;

public sealed class AuditExportTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
    private const string Header = "\"At\",\"User\",\"Action\",\"Target\",\"Outcome\",\"Error\"\r\n";

    private readonly PanelAppFactory _app = new();
    private readonly FakeTimeProvider _clock = new(Start);

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
    }

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Theory]
    [InlineData("/audit")]
    [InlineData("/audit/export.csv")]
    [InlineData("/audit/export.csv?user=alice&from=2026-03-01T00:00:00Z")]
    public async Task An_anonymous_request_is_sent_to_sign_in(string path)
    {
        using var anonymous = _app.CreateAnonymousClient();

        using var response = await anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/account/login", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task An_anonymous_download_without_html_gets_401_and_no_rows()
    {
        await SeedAsync(Start, new AuditRecord("alice@panel.test", "user.lock", "bob@panel.test", true));
        using var client = _app.CreateClient(new() { AllowAutoRedirect = false });

        using var response = await client.GetAsync("/audit/export.csv");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("alice", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_export_is_rfc4180_csv_newest_first_with_formulas_neutralised()
    {
        await SeedAsync(Start, new AuditRecord("alice@panel.test", "user.create", "=HYPERLINK(\"http://evil.example\",\"x\")", false, "Passwords must be long, \"really\"\nlong."));
        await SeedAsync(Start.AddMinutes(1), new AuditRecord("bob@panel.test", "service.restart", "+1", true));
        await SeedAsync(Start.AddMinutes(2), new AuditRecord("carol@panel.test", "@SUM(A1)", "-1", true));
        using var admin = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        using var response = await admin.GetAsync("/audit/export.csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.EndsWith(".csv", response.Content.Headers.ContentDisposition.FileName!.Trim('"'));
        Assert.Equal(
            Header +
            "\"2026-03-01T08:02:00.000Z\",\"carol@panel.test\",\"'@SUM(A1)\",\"'-1\",\"succeeded\",\"\"\r\n" +
            "\"2026-03-01T08:01:00.000Z\",\"bob@panel.test\",\"service.restart\",\"'+1\",\"succeeded\",\"\"\r\n" +
            "\"2026-03-01T08:00:00.000Z\",\"alice@panel.test\",\"user.create\",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",\"failed\",\"Passwords must be long, \"\"really\"\"\nlong.\"\r\n",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_export_has_only_the_rows_the_filters_select()
    {
        for (var hour = 0; hour < 4; hour++)
        {
            await SeedAsync(Start.AddHours(hour), new AuditRecord("alice@panel.test", "service.restart", $"grafana {hour}", true));
            await SeedAsync(Start.AddHours(hour), new AuditRecord("bob@panel.test", "service.stop", $"loki {hour}", true));
        }

        using var admin = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        // The page's own link, with times in another offset ('+' must survive the query string).
        var plusTwo = TimeSpan.FromHours(2);
        var url = new AuditQuery(User: "ALICE", Action: "restart", Target: "graf", From: Start.AddHours(1).ToOffset(plusTwo), To: Start.AddHours(3).ToOffset(plusTwo)).ExportUrl();

        var lines = (await admin.GetStringAsync(url)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(3, lines.Length);
        Assert.StartsWith("\"2026-03-01T10:00:00.000Z\",\"alice@panel.test\",\"service.restart\",\"grafana 2\"", lines[1]);
        Assert.StartsWith("\"2026-03-01T09:00:00.000Z\",\"alice@panel.test\",\"service.restart\",\"grafana 1\"", lines[2]);
        Assert.Equal(Header.TrimEnd(), lines[0]);
    }

    [Fact]
    public async Task An_unreadable_time_is_refused_with_400()
    {
        using var admin = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

        using var response = await admin.GetAsync("/audit/export.csv?from=yesterday");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_viewer_may_open_the_page_and_export_the_log()
    {
        await SeedAsync(Start, new AuditRecord("alice@panel.test", "service.restart", "grafana", true));
        await CreateUserAsync("viewer@panel.test", PanelRoles.Viewer);
        using var viewer = await _app.CreateSignedInClientAsync("viewer@panel.test", TestAccounts.Password);

        using var page = await viewer.GetAsync("/audit");
        var csv = await viewer.GetStringAsync("/audit/export.csv");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Audit log", await page.Content.ReadAsStringAsync());
        Assert.Contains("\"grafana\"", csv);
    }

    [Fact]
    public async Task A_user_locked_after_signing_in_is_refused_the_export_at_once()
    {
        await SeedAsync(Start, new AuditRecord("alice@panel.test", "service.restart", "grafana", true));
        var user = await CreateUserAsync("locked@panel.test", PanelRoles.Instructor);
        using var client = await _app.CreateSignedInClientAsync("locked@panel.test", TestAccounts.Password);
        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            await users.SetLockoutEndDateAsync((await users.FindByIdAsync(user.Id))!, DateTimeOffset.MaxValue);
        }

        using var response = await client.GetAsync("/audit/export.csv");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("locked", body);
        Assert.DoesNotContain("grafana", body);
    }

    private Task SeedAsync(DateTimeOffset at, AuditRecord record)
    {
        _clock.SetUtcNow(at);
        return TestAudit.LogWithClock(_app, _clock).RecordAsync(record);
    }

    private async Task<PanelUser> CreateUserAsync(string email, string role)
    {
        using var scope = _app.Services.CreateScope();
        return await TestAccounts.CreateAsync(scope.ServiceProvider, email, role);
    }
}
