using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace GrafanaPanel.Benchmarks;

/// <summary>
/// The real portal hosted in this process (all of its services, its Hangfire job server and its Docker event monitor)
/// on a fresh database of the benchmark's PostgreSQL, with an Instructor signed in twice: over HTTP through the sign-in
/// form (<see cref="Client"/>, for <c>/api/resets</c>) and as a circuit's reset service (<see cref="Resets"/>, for what
/// has no endpoint: capturing a baseline, and the step log with its times).
/// </summary>
/// <remarks>
/// The type argument only names the portal's assembly (whose entry point is hosted): this project's own top-level
/// <c>Program</c> hides the portal's.
/// </remarks>
public sealed class PortalHost : WebApplicationFactory<StackSnapshot>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly string _adminConnection;
    private readonly string _database;
    private const string Email = "bench-instructor@panel.test";
    private const string Password = "Bench-Password-42";
    private IServiceScope? _scope;

    private PortalHost(string adminConnection, string database, Dictionary<string, string?> settings)
    {
        _adminConnection = adminConnection;
        _database = database;
        _settings = settings;
    }

    public StackSnapshot Snapshot => Services.GetRequiredService<StackSnapshot>();

    /// <summary>The reset service of a signed-in Instructor (set by <see cref="StartAsync"/>).</summary>
    public IResetService Resets { get; private set; } = null!;

    /// <summary>An HTTP client with the Instructor's sign-in cookie (set by <see cref="StartAsync"/>).</summary>
    public HttpClient Client { get; private set; } = null!;

    public static async Task<PortalHost> StartAsync(string postgres, IReadOnlyDictionary<string, string> settings)
    {
        var database = $"gp_bench_{Guid.NewGuid():N}"[..30];
        await using (var admin = new NpgsqlConnection(postgres))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin).ExecuteNonQueryAsync();
        }

        var all = new Dictionary<string, string?>(settings.ToDictionary(p => p.Key, p => (string?)p.Value))
        {
            ["ConnectionStrings:Panel"] = new NpgsqlConnectionStringBuilder(postgres) { Database = database }.ConnectionString,
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:MinimumLevel:Override:Hangfire"] = "Warning",
            // An Admin exists, so the portal does not log a setup link; the benchmark acts as an Instructor of its own.
            ["Panel:Admin:Email"] = "bench-admin@panel.test",
            ["Panel:Admin:Password"] = "Bench-Password-42",
        };
        var host = new PortalHost(postgres, database, all);
        await host.Services.GetRequiredService<DatabaseStatus>().WhenReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        host.Resets = await host.InstructorResetsAsync();
        host.Client = await host.SignedInClientAsync();
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        // WebApplicationFactory looks for its manifest in the current directory (a test runner's is the bin folder);
        // a benchmark runs from anywhere, so the portal's content root is read from the manifest beside this assembly.
        var manifest = JsonSerializer.Deserialize<Dictionary<string, string>>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "MvcTestingAppManifest.json")))!;
        builder.UseContentRoot(manifest[typeof(StackSnapshot).Assembly.FullName!]);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>A new Instructor and the reset service as their circuit builds it (role checked in the database at each action).</summary>
    private async Task<IResetService> InstructorResetsAsync()
    {
        _scope = Services.CreateScope();
        var services = _scope.ServiceProvider;
        var users = services.GetRequiredService<UserManager<PanelUser>>();
        var user = new PanelUser { UserName = Email, Email = Email, EmailConfirmed = true };
        Check(await users.CreateAsync(user, Password));
        Check(await users.AddToRoleAsync(user, PanelRoles.Instructor));
        var principal = await services.GetRequiredService<IUserClaimsPrincipalFactory<PanelUser>>().CreateAsync(user);
        var gate = new RoleGate(users, new SignedIn(principal));
        return ActivatorUtilities.CreateInstance<ResetService>(services, gate);

        static void Check(IdentityResult result)
        {
            if (!result.Succeeded)
            {
                throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
            }
        }
    }

    /// <summary>Signs the Instructor in through the sign-in form, antiforgery token and all, as a script would.</summary>
    private async Task<HttpClient> SignedInClientAsync()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var html = await client.GetStringAsync("/account/login");
        var token = Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        using var response = await client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["Email"] = Email,
            ["Password"] = Password,
        }));
        if (response.Headers.Location?.OriginalString != "/")
        {
            throw new InvalidOperationException($"Sign-in failed: {response.StatusCode} {response.Headers.Location}");
        }

        // What a script sends with its writes (POST /api/resets); without it a signed-in write is refused.
        client.DefaultRequestHeaders.Add(GrafanaPanel.Web.Features.WebSecurity.CrossOriginWriteGuard.HeaderName, "1");
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        _scope?.Dispose();
        await base.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_adminConnection);
        await admin.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin).ExecuteNonQueryAsync();
    }

    private sealed class SignedIn(ClaimsPrincipal principal) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(principal));
    }
}
