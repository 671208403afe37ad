using System.Security.Cryptography.X509Certificates;
using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace GrafanaPanel.Web.Tests.Features.WebSecurity;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SelfSignedCertificateTests : IDisposable
{
    private readonly string _directory = Path.Combine(Directory.CreateTempSubdirectory("gp-cert-").FullName, "https");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);

    private SelfSignedCertificate Certificate(DateTimeOffset now) =>
        new(WebSecuritySettings.Read(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [WebSecuritySettings.CertificateDirectoryKey] = _directory,
            ["Stack:PublicHost"] = "lab.example",
            [WebSecuritySettings.HostNamesKey] = "192.168.1.20",
        }).Build()), new FakeTimeProvider(now), NullLogger<SelfSignedCertificate>.Instance);

    [Fact]
    public void The_first_start_generates_a_private_server_certificate_and_later_starts_reuse_it()
    {
        var now = DateTimeOffset.UtcNow;
        var first = Certificate(now).Certificate;

        var file = Path.Combine(_directory, SelfSignedCertificate.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.True(first.HasPrivateKey);
        Assert.Contains("CN=lab.example", first.Subject);
        var names = first.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("lab.example", names.EnumerateDnsNames());
        Assert.Contains("localhost", names.EnumerateDnsNames());
        Assert.Contains(System.Net.IPAddress.Parse("192.168.1.20"), names.EnumerateIPAddresses());
        Assert.Contains(System.Net.IPAddress.Loopback, names.EnumerateIPAddresses());

        var again = Certificate(now.AddDays(300)).Certificate;

        Assert.Equal(SelfSignedCertificate.Fingerprint(first), SelfSignedCertificate.Fingerprint(again));
        Assert.Matches("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", SelfSignedCertificate.Fingerprint(first));
    }

    [Fact]
    public void A_certificate_about_to_expire_is_replaced()
    {
        var now = DateTimeOffset.UtcNow;
        var first = Certificate(now).Certificate;

        var renewed = Certificate(first.NotAfter.ToUniversalTime().AddDays(-10)).Certificate;

        Assert.NotEqual(SelfSignedCertificate.Fingerprint(first), SelfSignedCertificate.Fingerprint(renewed));
        Assert.True(renewed.NotAfter > first.NotAfter);
    }

    [Fact]
    public void An_unreadable_certificate_file_is_not_replaced_silently()
    {
        Directory.CreateDirectory(_directory);
        var file = Path.Combine(_directory, SelfSignedCertificate.FileName);
        File.WriteAllText(file, "not a certificate");

        var error = Assert.Throws<InvalidOperationException>(() => Certificate(DateTimeOffset.UtcNow).Certificate);

        Assert.Contains(file, error.Message);
        Assert.Contains("Delete it", error.Message);
        Assert.Equal("not a certificate", File.ReadAllText(file));
    }
}
