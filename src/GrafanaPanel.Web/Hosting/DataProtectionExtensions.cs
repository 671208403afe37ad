using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.AspNetCore.DataProtection;

namespace GrafanaPanel.Web.Hosting;

/// <summary>
/// Data-protection keys (they sign cookies and antiforgery tokens) live in the panel database, so a restart or a
/// second instance keeps users signed in; each key is encrypted there with a certificate that lives only in the
/// portal's own file system (<c>DataProtection__CertificateDirectory</c>, a volume in compose). Whoever reads the
/// database alone cannot forge a cookie.
/// </summary>
public static class DataProtectionExtensions
{
    public const string CertificateDirectoryKey = "DataProtection:CertificateDirectory";
    public const string CertificateFileName = "data-protection.pfx";

    public static void AddPanelDataProtection(this WebApplicationBuilder builder)
    {
        var directory = CertificateDirectory(builder.Configuration);
        var certificate = LoadOrCreateCertificate(directory);
        builder.Services.AddDataProtection()
            .SetApplicationName("GrafanaPanel")
            .PersistKeysToDbContext<PanelDbContext>()
            .ProtectKeysWithCertificate(certificate)
            .UnprotectKeysWithAnyCertificate(certificate);
    }

    /// <summary>The configured directory, or the user's local application data when none is set (a local run).</summary>
    public static string CertificateDirectory(IConfiguration configuration) =>
        configuration[CertificateDirectoryKey] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "GrafanaPanel", "data-protection");

    /// <summary>
    /// Loads the certificate, creating a self-signed one (RSA 3072, readable by the portal's user only) on first run.
    /// Two instances starting together both end up with the one that reached the disk first.
    /// </summary>
    public static X509Certificate2 LoadOrCreateCertificate(string directory)
    {
        var path = Path.Combine(directory, CertificateFileName);
        try
        {
            if (!File.Exists(path))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }

                WriteNewCertificate(path);
            }

            return X509CertificateLoader.LoadPkcs12FromFile(path, password: null, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException(
                $"The data-protection certificate {path} could not be read or created ({ex.Message}). " +
                "Set DataProtection__CertificateDirectory to a directory the portal's user can write (a volume in compose), " +
                "or restore the certificate that encrypted the keys in the database.", ex);
        }
    }

    private static void WriteNewCertificate(string path)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest("CN=GrafanaPanel data protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
        // Another instance may have written one first; then that one is used.
        PrivateFile.Write(path, certificate.Export(X509ContentType.Pkcs12), overwrite: false);
    }
}
