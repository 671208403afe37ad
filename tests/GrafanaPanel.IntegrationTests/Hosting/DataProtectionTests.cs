using System.Net;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Hosting;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>
/// Data-protection keys are in the database encrypted with a certificate from the portal's own directory: a restart
/// with the same database and directory keeps users signed in; the database alone (another certificate) does not.
/// </summary>
public sealed class DataProtectionTests
{
    [Fact]
    public async Task Keys_are_stored_encrypted_and_a_restart_with_the_same_certificate_keeps_the_user_signed_in()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var certificates = Directory.CreateTempSubdirectory("gp-dp-");
        var otherCertificates = Directory.CreateTempSubdirectory("gp-dp-other-");
        try
        {
            string cookie;
            await using (var first = Portal(database, certificates.FullName))
            {
                await first.InitializeAsync();
                await first.WaitUntilDatabaseReadyAsync();
                using var client = first.CreateAnonymousClient();
                var signIn = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
                cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("GrafanaPanel.Auth=", StringComparison.Ordinal)).Split(';')[0];

                await using var db = await first.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
                var keys = await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync();
                Assert.NotEmpty(keys);
                Assert.All(keys, xml =>
                {
                    Assert.Contains("<encryptedSecret", xml);
                    Assert.DoesNotContain("<value>", xml);
                    Assert.DoesNotContain("unencrypted form", xml);
                });
            }

            var pfx = Path.Combine(certificates.FullName, DataProtectionExtensions.CertificateFileName);
            Assert.True(File.Exists(pfx));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx));
            }

            await using (var second = Portal(database, certificates.FullName))
            {
                await second.InitializeAsync();
                await second.WaitUntilDatabaseReadyAsync();
                Assert.Equal(HttpStatusCode.OK, (await GetHomeAsync(second, cookie)).StatusCode);
            }

            // The same database with another certificate cannot read the keys, so the cookie is worthless.
            await using var stranger = Portal(database, otherCertificates.FullName);
            await stranger.InitializeAsync();
            await stranger.WaitUntilDatabaseReadyAsync();
            var refused = await GetHomeAsync(stranger, cookie);
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Contains("/account/login", refused.Headers.Location!.OriginalString);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
            certificates.Delete(recursive: true);
            otherCertificates.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Keys_stored_unencrypted_before_the_upgrade_are_removed_at_start()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var certificates = Directory.CreateTempSubdirectory("gp-dp-");
        try
        {
            var options = new DbContextOptionsBuilder<PanelDbContext>().UseNpgsql(database).Options;
            await using (var db = new PanelDbContext(options))
            {
                await DatabaseInitializer.MigrateAsync(db, CancellationToken.None);
                db.DataProtectionKeys.Add(new DataProtectionKey
                {
                    FriendlyName = "key-old",
                    Xml = "<key id=\"00000000-0000-0000-0000-000000000001\" version=\"1\"><descriptor><descriptor><masterKey><!-- Warning: the key below is in an unencrypted form. --><value>AAAA</value></masterKey></descriptor></descriptor></key>",
                });
                await db.SaveChangesAsync();
            }

            await using var app = Portal(database, certificates.FullName);
            await app.InitializeAsync();
            await app.WaitUntilDatabaseReadyAsync();

            await using var check = new PanelDbContext(options);
            Assert.False(await check.DataProtectionKeys.AnyAsync(k => k.FriendlyName == "key-old"));
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
            certificates.Delete(recursive: true);
        }
    }

    private static PanelAppFactory Portal(string database, string certificateDirectory) =>
        new PanelAppFactory { Database = database }.With(DataProtectionExtensions.CertificateDirectoryKey, certificateDirectory);

    private static async Task<HttpResponseMessage> GetHomeAsync(PanelAppFactory app, string cookie)
    {
        using var client = app.CreateAnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }
}
