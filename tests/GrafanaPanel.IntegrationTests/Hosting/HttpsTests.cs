using System.Net;
using System.Security.Cryptography;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.WebSecurity;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>The portal process serving HTTPS itself, with the self-signed certificate it generates and keeps.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class HttpsTests : IAsyncLifetime
{
    private string _database = "";
    private string _directory = "";

    public async ValueTask InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync();
        _directory = Path.Combine(Directory.CreateTempSubdirectory("gp-https-").FullName, "https");
    }

    public async ValueTask DisposeAsync()
    {
        await TestPostgres.DropDatabaseAsync(_database);
        Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
    }

    [Fact]
    public async Task A_self_signed_certificate_is_generated_served_with_hsts_and_secure_cookies_and_kept_across_a_restart()
    {
        var settings = new Dictionary<string, string>
        {
            ["Panel:Https:CertificateDirectory"] = _directory,
            // The rest stays at Warning, so the start-up lines are all there is to read.
            ["Serilog:MinimumLevel:Override:GrafanaPanel.Web.Features.WebSecurity"] = "Information",
        };

        string fingerprint;
        await using (var portal = await PortalProcess.StartAsync(_database, settings, https: true))
        {
            var (client, served) = Client(portal.Address);
            using (client)
            {
                // HSTS is never sent for localhost or loopback addresses; a host name as the room types it gets it.
                using var page = new HttpRequestMessage(HttpMethod.Get, "/account/login");
                page.Headers.Host = "panel.test";
                using var response = await client.SendAsync(page);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("max-age=31536000", Assert.Single(response.Headers.GetValues("Strict-Transport-Security")));

                fingerprint = Fingerprint(served());
                Assert.True(portal.Output.Contains($"fingerprint {fingerprint}", StringComparison.Ordinal), portal.Output);
                Assert.Contains("Generated a new self-signed HTTPS certificate", portal.Output);

                var signIn = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
                Assert.Equal("/", signIn.Headers.Location?.OriginalString);
                var auth = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("GrafanaPanel.Auth=", StringComparison.Ordinal));
                Assert.Contains("; secure", auth, StringComparison.OrdinalIgnoreCase);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
            }

            // Plain http is sent to https, except the probes and the scrape that stay inside the compose network.
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = new Uri(portal.HttpAddress!) };
            var redirect = await http.GetAsync("/account/login");
            Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
            Assert.Equal($"{portal.Address}/account/login", redirect.Headers.Location?.OriginalString);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

            var file = Path.Combine(_directory, SelfSignedCertificate.FileName);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

            // The container's health check works on an https-only portal too (it probes itself on loopback).
            Assert.Equal(0, await HealthProbeAsync($"{portal.Address}/healthz"));
        }

        await using (var restarted = await PortalProcess.StartAsync(_database, settings, https: true))
        {
            var (client, served) = Client(restarted.Address);
            using (client)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
                Assert.Equal(fingerprint, Fingerprint(served()));
            }

            Assert.Contains($"fingerprint {fingerprint}", restarted.Output);
            Assert.DoesNotContain("Generated a new", restarted.Output);
        }
    }

    [Fact]
    public async Task A_certificate_from_kestrels_settings_is_served_and_nothing_is_generated()
    {
        var file = Path.Combine(Path.GetDirectoryName(_directory)!, "own.pfx");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=panel.lab.example", key, HashAlgorithmName.SHA256);
            using var own = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllBytesAsync(file, own.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12, "pfx-Password-1"));
        }

        var expected = Fingerprint(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(file, "pfx-Password-1").RawData);
        await using var portal = await PortalProcess.StartAsync(_database, new Dictionary<string, string>
        {
            ["Kestrel:Certificates:Default:Path"] = file,
            ["Kestrel:Certificates:Default:Password"] = "pfx-Password-1",
            ["Panel:Https:CertificateDirectory"] = _directory,
            ["Serilog:MinimumLevel:Override:GrafanaPanel.Web.Features.WebSecurity"] = "Information",
        }, https: true);
        var (client, served) = Client(portal.Address);
        using (client)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
        }

        Assert.Equal(expected, Fingerprint(served()));
        Assert.False(Directory.Exists(_directory), "a self-signed certificate was generated beside the configured one");
        Assert.Contains($"HTTPS with the certificate from Kestrel's settings ({file})", portal.Output);
        Assert.DoesNotContain("pfx-Password-1", portal.Output);
    }

    [Fact]
    public async Task Https_without_a_certificate_or_a_directory_for_one_stops_the_start_with_what_to_set()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PortalProcess.StartAsync(_database, new Dictionary<string, string>(), https: true));

        Assert.Contains("Kestrel__Certificates__Default__Path", error.Message);
        Assert.Contains("Panel__Https__CertificateDirectory", error.Message);
    }

    /// <summary><c>dotnet GrafanaPanel.Web.dll --healthcheck URL</c>, as the image's HEALTHCHECK runs it; its exit code.</summary>
    private static async Task<int> HealthProbeAsync(string url)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "GrafanaPanel.Web.dll"));
        start.ArgumentList.Add("--healthcheck");
        start.ArgumentList.Add(url);
        using var probe = System.Diagnostics.Process.Start(start)!;
        var error = await probe.StandardError.ReadToEndAsync();
        await probe.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(probe.ExitCode == 0, error);
        return probe.ExitCode;
    }

    /// <summary>A client that accepts the self-signed certificate and remembers the one the server showed.</summary>
    private static (HttpClient Client, Func<byte[]> Served) Client(string address)
    {
        byte[]? served = null;
        var handler = new HttpClientHandler
        {
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
            UseProxy = false,
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                served = certificate!.RawData;
                return true;
            },
        };
        return (new HttpClient(handler) { BaseAddress = new Uri(address) }, () => served ?? throw new InvalidOperationException("No certificate was served."));
    }

    private static string Fingerprint(byte[] der) => string.Join(':', SHA256.HashData(der).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
