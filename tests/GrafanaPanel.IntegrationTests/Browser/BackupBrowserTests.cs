using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrafanaPanel.IntegrationTests.Browser;

/// <summary>An instructor backs a volume up from the UI, sees it verified, breaks the volume and restores it: real engine, real jobs.</summary>
public sealed class BackupBrowserTests : IAsyncLifetime
{
    private readonly TestProject _project = new();
    private readonly DirectoryInfo _backups = Directory.CreateTempSubdirectory("gp-backups-");
    private PanelAppFactory _app = default!;
    private Infrastructure.Browser _browser = default!;
    private string _volume = "";

    public async ValueTask InitializeAsync()
    {
        _volume = await _project.CreateVolumeAsync("grafana_data");
        await _project.RunToEndAsync("seed", ["-v", $"{_volume}:/data"], "sh", "-c",
            "mkdir -p /data/dashboards && echo '{\"uid\":\"lab\"}' > /data/dashboards/lab.json && echo kept > /data/notes.txt");
        await _project.RunAsync("grafana", ["-v", $"{_volume}:/var/lib/grafana"], "sleep", "3600");
        _app = new PanelAppFactory { RealPort = true }
            .With("Stack:ProjectName", _project.Name)
            .With("Backups:Directory", _backups.FullName)
            .With("Backups:HelperImage", TestProject.Image);
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        var snapshot = _app.Services.GetRequiredService<StackSnapshot>();
        await Eventually.HoldsAsync(() => snapshot.Current.Find("grafana") is not null, TimeSpan.FromSeconds(30), "grafana in the snapshot");
        _browser = await Infrastructure.Browser.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await ((IAsyncLifetime)_app).DisposeAsync();
        await _project.DisposeAsync();
        _backups.Delete(recursive: true);
    }

    [Fact]
    public async Task Back_up_from_the_ui_verify_it_and_restore_it_over_a_changed_volume()
    {
        var baseUrl = _app.ServerAddress.TrimEnd('/');
        var page = await (await _browser.Instance.NewContextAsync()).NewPageAsync();
        await Infrastructure.Browser.SignInAsync(page, baseUrl, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        await Infrastructure.Browser.GotoInteractiveAsync(page, $"{baseUrl}/backups");
        var before = await FingerprintAsync();

        await page.ClickAsync("[data-test=backup-now]");
        await page.GetByLabel(_volume).CheckAsync();
        await page.ClickAsync("[data-test=backup-start]");
        var row = page.Locator("[data-test=set-row]").First;
        await Assertions.Expect(row.Locator("[data-test=set-status]")).ToContainTextAsync("completed", new() { Timeout = 60_000 });
        await Assertions.Expect(row.Locator("[data-test=set-volumes]")).ToHaveTextAsync(_volume);

        await row.Locator("[data-test=set-actions]").ClickAsync();
        await page.GetByText("Verify", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(row.Locator("[data-test=set-verification]")).ToContainTextAsync("passed", new() { Timeout = 60_000 });

        // A learner breaks the lab: a file is changed and another appears.
        await _project.RunToEndAsync("break", ["-v", $"{_volume}:/data"], "sh", "-c", "echo broken > /data/notes.txt && echo junk > /data/junk.txt");
        Assert.NotEqual(before, await FingerprintAsync());

        await row.Locator("[data-test=set-actions]").ClickAsync();
        await page.GetByText("Restore…", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Restore" }).ClickAsync();

        await Eventually.ReturnsAsync(FingerprintAsync, now => now == before, TimeSpan.FromSeconds(90), "the volume to be back as it was");
        // The restore's safety backup is listed as soon as the restore is done, without a rescan or a reload.
        await Assertions.Expect(page.Locator("[data-test=set-row]").Filter(new() { Has = page.Locator("[data-test=set-trigger]", new() { HasTextString = "pre-restore" }) })
            .Locator("[data-test=set-status]")).ToContainTextAsync("completed", new() { Timeout = 60_000 });
        // The service that uses the volume runs again after the restore.
        await TestProject.WaitForStatusAsync(await DockerCli.RunAsync("ps", "-aq", "--filter", $"name={_project.Name}-grafana-1"), "running");
    }

    private Task<string> FingerprintAsync() =>
        DockerCli.RunAsync("run", "--rm", "--network", "none", "-v", $"{_volume}:/data:ro", TestProject.Image,
            "sh", "-c", "cd /data && find . | sort && find . -type f | sort | xargs md5sum");
}
