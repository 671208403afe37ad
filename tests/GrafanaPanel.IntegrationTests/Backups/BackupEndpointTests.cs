using System.Net;
using System.Text;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.IntegrationTests.Backups;

public sealed class BackupEndpointTests : BackupAppTests
{
    private async Task<HttpClient> ClientAsync(string role)
    {
        var email = $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@panel.test";
        await TestAccounts.CreateAsync(App.Services, email, role);
        return await App.CreateSignedInClientAsync(email, TestAccounts.Password);
    }

    [Fact]
    public async Task Download_streams_the_archive_to_an_instructor_and_refuses_a_viewer_and_an_anonymous_user()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        var set = await Eventually.ReturnsAsync(() => App.DbAsync(db => db.BackupSets.Include(s => s.Volumes).SingleAsync(s => s.Id == id)),
            s => s.Status == BackupSetStatus.Completed, Wait, "completed");
        var url = $"/backups/{id}/{BackupAppFactory.GrafanaVolume}";

        using var instructor = await ClientAsync(PanelRoles.Instructor);
        var response = await instructor.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(App.BackupDirectory, set.Folder, set.Volumes[0].FileName)), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(set.Volumes[0].FileName, response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal(HttpStatusCode.NotFound, (await instructor.GetAsync($"/backups/{id}/..%2F..%2Fetc")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await instructor.GetAsync($"/backups/{id}/{BackupAppFactory.PrometheusVolume}")).StatusCode);
        using var viewer = await ClientAsync(PanelRoles.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync(url)).StatusCode);
        var refused = await App.DbAsync(db => db.AuditEntries.Where(e => e.Action == "backup.download" && !e.Succeeded).ToListAsync());
        Assert.Equal($"{id} {BackupAppFactory.GrafanaVolume}", Assert.Single(refused).Target);
        using var anonymous = App.CreateAnonymousClient();
        var redirect = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Contains("/account/login", redirect.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task The_backups_page_lists_the_catalog_for_a_signed_in_viewer()
    {
        var (service, scope) = App.ServiceFor(await App.UserAsync(PanelRoles.Instructor));
        using var _ = scope;
        var id = await service.CreateBackupAsync([BackupAppFactory.GrafanaVolume], BackupMode.Pause);
        await Eventually.ReturnsAsync(() => App.DbAsync(db => db.BackupSets.SingleAsync(s => s.Id == id)), s => s.Status == BackupSetStatus.Completed, Wait, "completed");
        using var viewer = await ClientAsync(PanelRoles.Viewer);

        var response = await viewer.GetAsync("/backups");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-test=\"set-row\"", html);
        Assert.Contains(BackupAppFactory.GrafanaVolume, html);
        Assert.DoesNotContain("data-test=\"backup-now\"", html);
    }

    /// <summary>A set written by the fake engine into a scratch folder outside the backup directory.</summary>
    private static async Task<(string Folder, BackupManifest Manifest)> ForeignSetAsync()
    {
        var scratch = Directory.CreateTempSubdirectory("gp-foreign-").FullName;
        var runner = new FakeBackupRunner(new BackupFolders(Microsoft.Extensions.Options.Options.Create(new BackupOptions { Directory = scratch })));
        var outcome = await runner.BackupAsync(new BackupRequest(Guid.NewGuid(), [BackupAppFactory.GrafanaVolume], BackupMode.Pause,
            ArchiveCompression.Zstd, BackupTrigger.Manual), null, CancellationToken.None);
        return (outcome.Folder, outcome.Manifest);
    }

    private static byte[] Multipart(string boundary, params (string Field, string FileName, byte[] Content)[] parts)
    {
        var body = new MemoryStream();
        foreach (var (field, fileName, content) in parts)
        {
            body.Write(Encoding.UTF8.GetBytes(
                $"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
            body.Write(content);
            body.Write("\r\n"u8);
        }

        body.Write(Encoding.UTF8.GetBytes($"--{boundary}--\r\n"));
        return body.ToArray();
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, byte[] body, string boundary = "XyZ", string? origin = null, bool marked = true)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/backups/import") { Content = content };
        if (marked)
        {
            // As a script (curl -H) sends it: a signed-in write without this header or an antiforgery token is refused.
            request.Headers.Add(CrossOriginWriteGuard.HeaderName, "1");
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_same_site_cross_origin_import_is_refused_and_writes_nothing_while_the_portals_own_origin_is_accepted()
    {
        var (folder, manifest) = await ForeignSetAsync();
        var archive = manifest.Volumes[0].ArchiveFile;
        var body = Multipart("XyZ",
            ("manifest", "manifest.json", await File.ReadAllBytesAsync(Path.Combine(folder, BackupManifest.FileName))),
            ("archive", archive, await File.ReadAllBytesAsync(Path.Combine(folder, archive))));
        using var client = await ClientAsync(PanelRoles.Instructor);
        var own = client.BaseAddress!.GetLeftPart(UriPartial.Authority);

        // Grafana's page on another port of the same host: same site, so the browser sends the sign-in cookie along.
        var crossOrigin = await PostAsync(client, body, origin: $"{client.BaseAddress.Scheme}://{client.BaseAddress.Host}:3000");
        Assert.Equal(HttpStatusCode.Forbidden, crossOrigin.StatusCode);
        Assert.Contains("another origin", await crossOrigin.Content.ReadAsStringAsync());
        // The portal's own origin, but neither the header nor a token: a plain cross-site form could send this much.
        var unmarked = await PostAsync(client, body, origin: own, marked: false);
        Assert.Equal(HttpStatusCode.Forbidden, unmarked.StatusCode);
        Assert.Contains(CrossOriginWriteGuard.HeaderName, await unmarked.Content.ReadAsStringAsync());
        Assert.Equal(0, await App.DbAsync(db => db.BackupSets.CountAsync()));
        Assert.Empty(Directory.GetFileSystemEntries(App.BackupDirectory));

        var accepted = await PostAsync(client, body, origin: own);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(BackupSetStatus.Completed, (await App.DbAsync(db => db.BackupSets.SingleAsync(s => s.Id == manifest.SetId))).Status);
        Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
    }

    [Fact]
    public async Task An_uploaded_set_is_validated_and_listed_as_an_import()
    {
        var (folder, manifest) = await ForeignSetAsync();
        var archive = manifest.Volumes[0].ArchiveFile;
        using var client = await ClientAsync(PanelRoles.Instructor);

        var response = await PostAsync(client, Multipart("XyZ",
            ("manifest", "manifest.json", await File.ReadAllBytesAsync(Path.Combine(folder, BackupManifest.FileName))),
            ("archive", archive, await File.ReadAllBytesAsync(Path.Combine(folder, archive)))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var set = await App.DbAsync(db => db.BackupSets.Include(s => s.Volumes).SingleAsync(s => s.Id == manifest.SetId));
        Assert.Equal((BackupTrigger.Import, BackupSetStatus.Completed), (set.Trigger, set.Status));
        Assert.Equal(manifest.Volumes[0].Sha256, set.Volumes[0].Sha256);
        Assert.True(File.Exists(Path.Combine(App.BackupDirectory, set.Folder, archive)));
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, Multipart("XyZ",
            ("manifest", "manifest.json", await File.ReadAllBytesAsync(Path.Combine(folder, BackupManifest.FileName))),
            ("archive", archive, await File.ReadAllBytesAsync(Path.Combine(folder, archive)))))).StatusCode);
        Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
    }

    [Fact]
    public async Task Bad_uploads_are_each_refused_with_a_message_and_nothing_is_listed_or_left_on_disk()
    {
        var (folder, manifest) = await ForeignSetAsync();
        var archiveName = manifest.Volumes[0].ArchiveFile;
        var manifestBytes = await File.ReadAllBytesAsync(Path.Combine(folder, BackupManifest.FileName));
        var archive = await File.ReadAllBytesAsync(Path.Combine(folder, archiveName));
        var flipped = archive.ToArray();
        flipped[flipped.Length / 2] ^= 0x40;
        var whole = Multipart("XyZ", ("manifest", "manifest.json", manifestBytes), ("archive", archiveName, archive));
        using var client = await ClientAsync(PanelRoles.Instructor);

        var cases = new (string What, byte[] Body, string Message)[]
        {
            ("0 bytes", [], "empty"),
            ("an empty archive part", Multipart("XyZ", ("manifest", "manifest.json", manifestBytes), ("archive", archiveName, [])), "0 bytes"),
            ("over the limit", Multipart("XyZ", ("manifest", "manifest.json", manifestBytes), ("archive", archiveName, new byte[300_000])), "limit"),
            ("a cut body", whole[..(whole.Length / 2)], "cut off"),
            ("../x.tar.zst", Multipart("XyZ", ("manifest", "manifest.json", manifestBytes), ("archive", "../x.tar.zst", archive)), "plain archive file name"),
            ("a NUL in the name", Multipart("XyZ", ("manifest", "manifest.json", manifestBytes), ("archive", "x\0.tar.zst", archive)), "NUL"),
            ("no manifest", Multipart("XyZ", ("archive", archiveName, archive)), "manifest"),
            ("a flipped byte", Multipart("XyZ", ("manifest", "manifest.json", manifestBytes), ("archive", archiveName, flipped)), "SHA-256"),
            ("a missing archive", Multipart("XyZ", ("manifest", "manifest.json", manifestBytes)), "no such file was uploaded"),
        };
        foreach (var (what, body, message) in cases)
        {
            var response = await PostAsync(client, body);
            var text = await response.Content.ReadAsStringAsync();
            // Over Backups:ImportMaxBytes is 413 (RFC 9110 "content too large"); every other bad upload is 400.
            var expected = what == "over the limit" ? HttpStatusCode.RequestEntityTooLarge : HttpStatusCode.BadRequest;
            Assert.True(response.StatusCode == expected, $"{what}: {(int)response.StatusCode} {text}");
            Assert.True(text.Contains(message, StringComparison.OrdinalIgnoreCase), $"{what}: '{text}' does not say '{message}'");
        }

        Assert.Equal(0, await App.DbAsync(db => db.BackupSets.CountAsync()));
        Assert.Empty(Directory.GetFileSystemEntries(App.BackupDirectory));
        using var viewer = await ClientAsync(PanelRoles.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(viewer, whole)).StatusCode);
        Assert.Contains(await App.DbAsync(db => db.AuditEntries.Where(e => e.Action == "backup.import" && !e.Succeeded).ToListAsync()),
            e => e.Error!.Contains("Instructor role"));
        Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
    }
}
