using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using GrafanaPanel.IntegrationTests.Accounts;
using GrafanaPanel.IntegrationTests.Infrastructure;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>
/// The portal as shipped (a process of its own, the image's log levels) with known secrets: a database password, a
/// metrics token, an Admin password typed right and wrong, and a setup link from the host command run as a process.
/// After it is exercised, nothing it wrote holds any of them, as written or encoded. (Every other portal of the suite
/// is scanned the same way when it is disposed, see <see cref="SecretScan"/>.)
/// </summary>
public sealed class SecretScanTests
{
    [Fact]
    public async Task No_password_token_or_setup_link_reaches_the_portals_output()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var certificates = Directory.CreateTempSubdirectory("gp-dp-");
        var metricsToken = "metrics-" + Random();
        var adminPassword = "Admin-Pass-" + Random();
        var wrongPassword = "Admin-Pass-" + Random();
        const string adminEmail = "first-admin@panel.test";
        try
        {
            await using var portal = await PortalProcess.StartAsync(connectionString, new Dictionary<string, string>
            {
                ["Panel:Admin:Email"] = "",
                ["Panel:Admin:Password"] = "",
                ["Metrics:BearerToken"] = metricsToken,
                // The levels the image ships with (appsettings.json), not the suite's quieter Warning.
                ["Serilog:MinimumLevel:Default"] = "Information",
                ["DataProtection:CertificateDirectory"] = certificates.FullName,
            });
            portal.KnownSecrets.AddRange([adminPassword, wrongPassword]);

            // The host command, as the operator runs it.
            var issued = await RunCommandAsync(connectionString, portal.Address, "setup-link");
            Assert.True(issued.Exit == 0, issued.Stderr);
            var link = issued.Stdout.Trim();
            Assert.StartsWith($"{portal.Address}/account/setup?token=", link);
            var token = link[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..];
            portal.KnownSecrets.Add(token);

            using var client = Client(portal.Address);
            Assert.Contains("data-test=\"setup-form\"", await client.GetStringAsync(link));
            var created = await FirstAdminTests.PostSetupAsync(client, token, adminEmail, adminPassword);
            Assert.Equal("/", created.Headers.Location!.OriginalString);

            using var other = Client(portal.Address);
            var wrong = await PanelAppFactory.SignInAsync(other, adminEmail, wrongPassword);
            Assert.Contains("error=", wrong.Headers.Location!.OriginalString);
            var right = await PanelAppFactory.SignInAsync(other, adminEmail, adminPassword);
            Assert.Equal("/", right.Headers.Location!.OriginalString);
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/readyz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/jobs")).StatusCode);

            using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            scrape.Headers.Authorization = new AuthenticationHeaderValue("Bearer", metricsToken);
            Assert.Equal(HttpStatusCode.OK, (await other.SendAsync(scrape)).StatusCode);
            using var guess = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            guess.Headers.Authorization = new AuthenticationHeaderValue("Bearer", wrongPassword);
            Assert.Equal(HttpStatusCode.Unauthorized, (await other.SendAsync(guess)).StatusCode);

            var again = await RunCommandAsync(connectionString, portal.Address, "setup-link");
            Assert.Equal(1, again.Exit);
            var unlocked = await RunCommandAsync(connectionString, portal.Address, "unlock-admin", adminEmail);
            Assert.True(unlocked.Exit == 0, unlocked.Stderr);

            await portal.KillAsync();
            var output = portal.AllOutput;
            // The scan is not vacuous: the portal logged the sign-ins and where to get a setup link.
            Assert.Contains(output, l => l.Contains("No Admin exists yet") && l.Contains("setup-link"));
            Assert.Contains(output, l => l.Contains("Sign-in failed") && l.Contains(adminEmail));
            Assert.Contains(output, l => l.Contains("signed in") && l.Contains(adminEmail));
            var secrets = portal.KnownSecrets;
            Assert.Contains(metricsToken, secrets);
            Assert.Empty(SecretScan.Find(output, secrets));
            // The commands' own messages (standard error) hold no secret either; the link goes to standard output only.
            Assert.Empty(SecretScan.Find([issued.Stderr, again.Stderr, unlocked.Stderr, unlocked.Stdout], secrets));
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(connectionString);
            certificates.Delete(recursive: true);
        }
    }

    private static string Random() => Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    private static HttpClient Client(string address)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri(address),
        };
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        return client;
    }

    /// <summary><c>dotnet GrafanaPanel.Web.dll COMMAND ...</c> with the portal's database and address in the environment.</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> RunCommandAsync(string connectionString, string publicUrl, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "GrafanaPanel.Web.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__Panel"] = connectionString;
        start.Environment["Panel__PublicUrl"] = publicUrl;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
