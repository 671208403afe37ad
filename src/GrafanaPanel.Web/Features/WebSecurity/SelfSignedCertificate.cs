using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace GrafanaPanel.Web.Features.WebSecurity;

/// <summary>
/// The portal's self-signed HTTPS certificate: generated on the first start into the certificate directory (a PKCS#12
/// file readable by the portal's user only) and reused afterwards, so its fingerprint stays the same across restarts
/// and browsers that accepted it once keep accepting it. A new one is made only when it is about to expire.
/// </summary>
public sealed class SelfSignedCertificate(WebSecuritySettings settings, TimeProvider clock, ILogger<SelfSignedCertificate> logger)
{
    public const string FileName = "portal-https.pfx";

    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(5 * 365);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);
    private readonly Lock _lock = new();
    private X509Certificate2? _certificate;

    public string FilePath => Path.Combine(settings.CertificateDirectory ?? throw new InvalidOperationException("No certificate directory is set."), FileName);

    /// <summary>The certificate, loaded or generated on first use (when Kestrel binds its first https address).</summary>
    public X509Certificate2 Certificate
    {
        get
        {
            lock (_lock)
            {
                return _certificate ??= LoadOrCreate();
            }
        }
    }

    /// <summary>SHA-256 of the certificate's DER bytes as colon-separated hex, as browsers show it.</summary>
    public static string Fingerprint(X509Certificate certificate) =>
        string.Join(':', SHA256.HashData(certificate.GetRawCertData()).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    private X509Certificate2 LoadOrCreate()
    {
        var path = FilePath;
        X509Certificate2? certificate = null;
        string? reason = null;
        if (File.Exists(path))
        {
            try
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
            }
            catch (CryptographicException e)
            {
                // A file we cannot read is not silently replaced: browsers trust its fingerprint.
                throw new InvalidOperationException($"The self-signed HTTPS certificate {path} cannot be read ({e.Message}). Delete it to have a new one generated.", e);
            }

            if (certificate.NotAfter.ToUniversalTime() - RenewBefore < clock.GetUtcNow().UtcDateTime)
            {
                reason = $"the old one expires on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}";
                certificate.Dispose();
                certificate = null;
            }
        }
        else
        {
            reason = "there was none yet";
        }

        if (certificate is null)
        {
            certificate = Create();
            Save(certificate, path);
            WebSecurityLog.SelfSignedGenerated(logger, path, reason ?? "");
        }

        WebSecurityLog.SelfSignedInUse(logger, path, certificate.Subject, certificate.NotAfter.ToUniversalTime(), Fingerprint(certificate));
        return certificate;
    }

    private X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = settings.HostNames.Concat(["localhost", Environment.MachineName]).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var commonName = settings.HostNames.FirstOrDefault(n => !IPAddress.TryParse(n, out _)) ?? Environment.MachineName;
        var request = new CertificateRequest($"CN={commonName.Replace(",", "", StringComparison.Ordinal)}, O=GrafanaPanel (self-signed)", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = clock.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.Add(Lifetime));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>Written atomically (temporary file, rename), readable and writable by the portal's user only.</summary>
    private static void Save(X509Certificate2 certificate, string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        try
        {
            PrivateFile.Write(path, certificate.Export(X509ContentType.Pkcs12), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The self-signed HTTPS certificate cannot be written to {directory} ({e.Message}). Set Panel__Https__CertificateDirectory to a directory the portal's user may write (in compose, on the portal's volume).", e);
        }
    }
}
