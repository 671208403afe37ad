using System.Net;
using System.Text.RegularExpressions;
using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// The real portal, hosted in-process against a fresh database on the real PostgreSQL server and the
/// real Docker engine. Only configuration differs from production.
/// </summary>
public class PanelAppFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminEmail = "admin@panel.test";
    public const string AdminPassword = "Correct-Horse-42";

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Panel:Admin:Email"] = AdminEmail,
        ["Panel:Admin:Password"] = AdminPassword,
        ["Panel:SignIn:AttemptsPerMinute"] = "1000",
        ["Serilog:MinimumLevel:Default"] = "Warning",
    };

    private bool _disposed;

    public string ConnectionString { get; private set; } = "";

    /// <summary>Every event this portal logged; scanned for secrets when the factory is disposed.</summary>
    public LogCapture Log { get; } = new();

    /// <summary>Secrets besides the settings' passwords and tokens that this portal must never log (a test adds its own).</summary>
    public List<string> KnownSecrets { get; } = [];

    /// <summary>
    /// Run on this existing database (a test's own, e.g. to start a second instance after the first stopped)
    /// instead of a fresh one; it is left in place on dispose.
    /// </summary>
    public string? Database { get; init; }

    /// <summary>Set before the host starts: another setting, or null to remove one.</summary>
    public PanelAppFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Services the test adds to the portal's (an in-memory trace exporter, say); production code is unchanged.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>Serve on a real loopback port (for the browser) instead of the in-memory test server.</summary>
    public bool RealPort { get; init; }

    public string ServerAddress =>
        Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public virtual async ValueTask InitializeAsync()
    {
        ConnectionString = Database ?? await TestPostgres.CreateDatabaseAsync();
        if (RealPort)
        {
            UseKestrel(0);
            StartServer();
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        // Hosted from the test's bin folder, the app finds its style sheets and scripts through the build manifest:
        // the framework's and MudBlazor's from their packages, its own (linked into wwwroot from wwwroot-assets/, which
        // the manifest does not follow) from wwwroot-assets/ as the web root, as the published app has them in wwwroot.
        builder.UseWebRoot(RepositoryFolder("wwwroot-assets"));
        builder.UseStaticWebAssets();
        builder.UseSetting("ConnectionStrings:Panel", ConnectionString);
        builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(Log));
        if (TestServices is { } testServices)
        {
            builder.ConfigureServices(testServices);
        }

        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    private static string RepositoryFolder(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GrafanaPanel.sln")))
            {
                return Path.Combine(dir.FullName, name);
            }
        }

        throw new InvalidOperationException("The repository root (GrafanaPanel.sln) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Waits until migrations ran and the first Admin exists (start-up does this in the background).</summary>
    public async Task WaitUntilDatabaseReadyAsync(TimeSpan? timeout = null)
    {
        var status = Services.GetRequiredService<DatabaseStatus>();
        await status.WhenReadyAsync(CancellationToken.None).WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>A cookie-keeping client that does not follow redirects and asks for HTML, as a browser does.</summary>
    public HttpClient CreateAnonymousClient()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        return client;
    }

    /// <summary>A client signed in through the real sign-in form (antiforgery token and all).</summary>
    public async Task<HttpClient> CreateSignedInClientAsync(string email, string password)
    {
        await WaitUntilDatabaseReadyAsync();
        var client = CreateAnonymousClient();
        var response = await SignInAsync(client, email, password);
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.Contains("error=") == true)
        {
            throw new InvalidOperationException($"Sign-in of {email} failed: {(int)response.StatusCode} {response.Headers.Location}");
        }

        return client;
    }

    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password, string? returnUrl = null)
    {
        var token = await ReadAntiforgeryTokenAsync(client, "/account/login");
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["Email"] = email,
            ["Password"] = password,
        };
        if (returnUrl is not null)
        {
            form["ReturnUrl"] = returnUrl;
        }

        return await client.PostAsync("/account/signin", new FormUrlEncodedContent(form));
    }

    public static async Task<string> ReadAntiforgeryTokenAsync(HttpClient client, string page)
    {
        var html = await client.GetStringAsync(page);
        var match = Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"");
        return match.Success ? match.Groups[1].Value : throw new InvalidOperationException($"{page} has no antiforgery token.");
    }

    /// <summary>
    /// Stops the portal, drops its fresh database and checks that it logged no secret. xunit's lifetime and
    /// <c>await using</c> both end here (IAsyncLifetime is IAsyncDisposable), so a second call does nothing.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await base.DisposeAsync();
        if (ConnectionString.Length > 0 && Database is null)
        {
            await TestPostgres.DropDatabaseAsync(ConnectionString);
        }

        SecretScan.AssertNone(Log.Lines, SecretScan.SecretsOf(ConnectionString, _settings).Concat(KnownSecrets), "The portal");
    }
}
