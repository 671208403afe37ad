using System.Net;
using System.Text.RegularExpressions;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GrafanaPanel.IntegrationTests.Accounts;

/// <summary>
/// The first Admin: from the environment, or through a link that only the host's <c>setup-link</c> command prints
/// (30 minutes, once, refused once an Admin exists). The command runs here in-process on the portal's database, with a
/// clock the test sets; the same command as a process is exercised by <see cref="Hosting.SecretScanTests"/>.
/// </summary>
public sealed class FirstAdminTests
{
    private const string PublicUrl = "http://portal.test:8585";

    [Fact]
    public async Task The_setup_link_command_prints_a_link_that_creates_the_first_admin_exactly_once()
    {
        await using var app = NoAdminPortal();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            Assert.Equal(0, await CountUsersAsync(app));
            Assert.Contains(app.Log.Lines, l => l.Contains("No Admin exists yet") && l.Contains("setup-link"));

            var (exit, stdout, stderr) = await SetupLinkAsync(app, TimeProvider.System);

            Assert.Equal(0, exit);
            var link = stdout.Trim();
            Assert.Matches($"^{Regex.Escape(PublicUrl)}/account/setup\\?token=[0-9a-f]{{48}}$", link);
            Assert.Contains("30 minutes", stderr);
            var token = link[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..];
            app.KnownSecrets.Add(token);
            await using (var db = await CreateDbAsync(app))
            {
                // Only a hash is stored.
                var stored = await db.SetupLinkTokens.SingleAsync();
                Assert.DoesNotContain(token, Convert.ToHexString(stored.Hash), StringComparison.OrdinalIgnoreCase);
                Assert.Equal(SetupLinks.Lifetime, stored.ExpiresAt - stored.IssuedAt);
            }

            using var client = app.CreateAnonymousClient();
            Assert.Contains("data-test=\"setup-form\"", await client.GetStringAsync($"/account/setup?token={token}"));
            var first = await PostSetupAsync(client, token, "first@panel.test", "Setup-Password-1");
            Assert.Equal("/", first.Headers.Location!.OriginalString);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);

            using var other = app.CreateAnonymousClient();
            var second = await PostSetupAsync(other, token, "second@panel.test", "Setup-Password-2");
            Assert.Equal("/account/setup?state=AdminExists", second.Headers.Location!.OriginalString);
            var page = await other.GetStringAsync(second.Headers.Location!.OriginalString);
            Assert.Contains("An Admin exists already", page);
            Assert.DoesNotContain("data-test=\"setup-form\"", page);

            using var scope = app.Services.CreateScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>();
            var admin = await users.FindByEmailAsync("first@panel.test");
            Assert.NotNull(admin);
            Assert.True(await users.IsInRoleAsync(admin, PanelRoles.Admin));
            Assert.Null(await users.FindByEmailAsync("second@panel.test"));
            await using var audit = await CreateDbAsync(app);
            Assert.True(await audit.AuditEntries.AnyAsync(e => e.Action == AuditActions.SetupLinkIssue && e.User == HostCommands.HostActor));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_setup_link_expires_after_30_minutes_and_the_page_says_how_to_get_a_new_one()
    {
        await using var app = NoAdminPortal();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            // Issued 31 minutes ago by the command's clock; the portal reads the real clock.
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(31));
            var (exit, stdout, _) = await SetupLinkAsync(app, clock);
            Assert.Equal(0, exit);
            var token = TokenOf(stdout);
            app.KnownSecrets.Add(token);

            using var client = app.CreateAnonymousClient();
            var page = await client.GetStringAsync($"/account/setup?token={token}");
            Assert.Contains("data-state=\"Expired\"", page);
            Assert.Contains("setup-link", page);
            Assert.DoesNotContain("data-test=\"setup-form\"", page);

            var response = await PostSetupAsync(client, token, "late@panel.test", "Setup-Password-1");
            Assert.Equal("/account/setup?state=Expired", response.Headers.Location!.OriginalString);
            Assert.Equal(0, await CountUsersAsync(app));

            // 29 minutes old: still valid.
            clock.SetUtcNow(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(29));
            var fresh = TokenOf((await SetupLinkAsync(app, clock)).Stdout);
            app.KnownSecrets.Add(fresh);
            Assert.Contains("data-test=\"setup-form\"", await client.GetStringAsync($"/account/setup?token={fresh}"));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_newer_link_replaces_the_older_one_and_a_refused_password_leaves_the_link_working()
    {
        await using var app = NoAdminPortal();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            var older = TokenOf((await SetupLinkAsync(app, TimeProvider.System)).Stdout);
            var newer = TokenOf((await SetupLinkAsync(app, TimeProvider.System)).Stdout);
            app.KnownSecrets.AddRange([older, newer]);
            using var client = app.CreateAnonymousClient();

            Assert.Contains("data-state=\"Unknown\"", await client.GetStringAsync($"/account/setup?token={older}"));
            var weak = await PostSetupAsync(client, newer, "first@panel.test", "short");
            Assert.Contains("error=", weak.Headers.Location!.OriginalString);
            Assert.Equal(0, await CountUsersAsync(app));
            Assert.Equal("/", (await PostSetupAsync(client, newer, "first@panel.test", "Setup-Password-1")).Headers.Location!.OriginalString);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task The_setup_link_command_is_refused_once_an_admin_exists()
    {
        await using var app = new PanelAppFactory();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();

            var (exit, stdout, stderr) = await SetupLinkAsync(app, TimeProvider.System);

            Assert.Equal(1, exit);
            Assert.Equal("", stdout);
            Assert.Contains("An Admin exists already", stderr);
            await using var db = await CreateDbAsync(app);
            Assert.Equal(0, await db.SetupLinkTokens.CountAsync());
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_weak_admin_password_from_the_environment_is_refused_and_the_log_points_to_the_setup_link_command()
    {
        await using var app = new PanelAppFactory().With("Panel:Admin:Password", "short");
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();

            Assert.Equal(0, await CountUsersAsync(app));
            Assert.Contains(app.Log.Lines, l => l.Contains("setup-link") && !l.Contains("token="));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_wrong_setup_token_creates_nothing()
    {
        await using var app = NoAdminPortal();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var client = app.CreateAnonymousClient();

            var response = await PostSetupAsync(client, "guessed-token", "mallory@panel.test", "Setup-Password-1");

            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/account/setup?state=Unknown", response.Headers.Location!.OriginalString);
            Assert.Contains("not valid", await client.GetStringAsync(response.Headers.Location!.OriginalString));
            Assert.Equal(0, await CountUsersAsync(app));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    private static PanelAppFactory NoAdminPortal() =>
        new PanelAppFactory().With("Panel:Admin:Email", null).With("Panel:Admin:Password", null).With("Panel:PublicUrl", PublicUrl);

    /// <summary>The host command, in-process, on the portal's database and configuration.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> SetupLinkAsync(PanelAppFactory app, TimeProvider clock)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Panel"] = app.ConnectionString,
            ["Panel:PublicUrl"] = PublicUrl,
        }).Build();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await HostCommands.RunAsync([HostCommands.SetupLink], configuration, stdout, stderr, clock, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static string TokenOf(string link) =>
        Regex.Match(link, "token=([0-9a-f]+)").Groups[1].Value is { Length: > 0 } token ? token : throw new InvalidOperationException($"No token in '{link}'.");

    public static async Task<HttpResponseMessage> PostSetupAsync(HttpClient client, string token, string email, string password)
    {
        var antiforgery = await PanelAppFactory.ReadAntiforgeryTokenAsync(client, "/account/login");
        return await client.PostAsync("/account/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["Token"] = token,
            ["Email"] = email,
            ["Password"] = password,
            ["ConfirmPassword"] = password,
        }));
    }

    private static async Task<PanelDbContext> CreateDbAsync(PanelAppFactory app) =>
        await app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();

    private static async Task<int> CountUsersAsync(PanelAppFactory app)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<PanelUser>>().Users.CountAsync();
    }
}
