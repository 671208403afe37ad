using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.StackTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.IntegrationTests.Modules;

/// <summary>
/// Readiness of modules judged by the real portal: the stack snapshot of the offline test stack (grafana, postgres,
/// redis) from the real Docker engine, and the Grafana stand-in asked through its HTTP API.
/// </summary>
[Collection(OfflineGrafanaCollection.Name)]
public sealed class ModuleReadinessOnStackTests(OfflineGrafana grafana) : IAsyncLifetime
{
    /// <summary>Only the services the fixture starts, with pieces of every kind that deploy/ provisions.</summary>
    public const string StartedServicesCatalog = """
        modules:
          - id: fundamentals
            title: Fundamentals on the test stack
            services: [grafana, postgres, redis]
            links:
              - { title: Stack health, dashboard: stack-health }
              - { title: Module 1 folder, folder: module-1 }
              - { title: Explore Prometheus, explore: { datasource: prometheus, type: prometheus, query: up } }
              - { title: Explore Tempo, explore: { datasource: tempo, type: tempo, query: '{ duration > 1s }' } }
              - { title: Alerts, page: alerting }
          - id: organization
            title: Organization on the test stack
            services: [grafana]
            orgId: 1
            links:
              - { title: Playground, dashboard: organization-playground }
              - { title: Organizations, page: admin-orgs }
        """;

    private readonly string _catalog = Path.Combine(Path.GetTempPath(), $"modules-{Guid.NewGuid():N}.yaml");
    private PanelAppFactory _app = default!;

    public async ValueTask InitializeAsync()
    {
        await File.WriteAllTextAsync(_catalog, StartedServicesCatalog);
        _app = await StartPortalAsync(grafana, _catalog);
    }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncLifetime)_app).DisposeAsync();
        File.Delete(_catalog);
    }

    /// <summary>A portal on the test stack whose snapshot shows grafana, postgres and redis healthy.</summary>
    public static async Task<PanelAppFactory> StartPortalAsync(OfflineGrafana grafana, string catalog, Func<PanelAppFactory, PanelAppFactory>? configure = null, bool realPort = false)
    {
        var app = grafana.Configure(new PanelAppFactory { RealPort = realPort }, catalog);
        app = configure?.Invoke(app) ?? app;
        await app.InitializeAsync();
        await app.WaitUntilDatabaseReadyAsync();
        var snapshot = app.Services.GetRequiredService<StackSnapshot>();
        await Eventually.HoldsAsync(
            () => new[] { "grafana", "postgres", "redis" }.All(s => snapshot.Current.Find(s)?.Health == ServiceHealth.Healthy),
            TimeSpan.FromSeconds(90), "grafana, postgres and redis healthy in the portal's snapshot");
        return app;
    }

    private async Task<IReadOnlyList<ModuleReadiness>> CheckAsync(PanelAppFactory? app = null)
    {
        app ??= _app;
        var catalog = app.Services.GetRequiredService<IModuleCatalog>().Current;
        Assert.Null(catalog.Error);
        using var scope = app.Services.CreateScope();
        var inventory = await scope.ServiceProvider.GetRequiredService<ModuleReadinessChecker>().ProbeGrafanaAsync(catalog.Catalog.Modules, CancellationToken.None);
        var stack = app.Services.GetRequiredService<StackSnapshot>().Current;
        return catalog.Catalog.Modules.Select(m => ModuleReadinessChecker.Evaluate(m, stack, inventory)).ToList();
    }

    [Fact]
    public async Task Every_module_is_ready_when_grafana_has_every_piece_and_the_services_are_healthy()
    {
        var readiness = await CheckAsync();

        Assert.All(readiness, r => Assert.True(r.Status == ReadinessStatus.Ready, $"{r.ModuleId}: {string.Join(" ", r.Problems.Select(p => p.Message))}"));
        Assert.Equal(2, readiness.Count);
    }

    [Fact]
    public async Task A_dashboard_and_a_data_source_grafana_does_not_have_are_named()
    {
        await File.WriteAllTextAsync(_catalog, """
            modules:
              - id: broken
                title: Broken on purpose
                services: [grafana]
                links:
                  - { title: Stack health, dashboard: stack-health }
                  - { title: Gone, dashboard: no-such-dashboard }
                  - { title: Graphite, explore: { datasource: no-such-source, type: prometheus, query: up } }
            """);
        var catalog = _app.Services.GetRequiredService<IModuleCatalog>();
        catalog.Refresh();

        var readiness = Assert.Single(await CheckAsync());

        Assert.Equal(ReadinessStatus.NotReady, readiness.Status);
        Assert.Equal(
            ["Dashboard no-such-dashboard Grafana has no dashboard 'no-such-dashboard'.", "DataSource no-such-source Grafana has no data source 'no-such-source'."],
            readiness.Problems.Select(p => $"{p.Kind} {p.Subject} {p.Message}"));
    }

    [Fact]
    public async Task The_default_catalog_finds_every_piece_in_grafana_and_names_only_the_services_not_started()
    {
        var app = await StartPortalAsync(grafana, Repo.PathOf("deploy", "portal", "modules.yaml"));
        var readiness = await WithAsync(app, () => CheckAsync(app));

        Assert.Equal(5, readiness.Count);
        var problems = readiness.SelectMany(r => r.Problems).ToList();
        Assert.All(problems, p => Assert.True(p.Kind == ProblemKind.Service, $"{p.Kind} {p.Subject}: {p.Message}"));
        Assert.DoesNotContain(problems, p => p.Subject is "grafana" or "postgres" or "redis");
        Assert.Contains(problems, p => p.Subject == "prometheus" && p.Message.Contains("has no container"));
        Assert.Equal(ReadinessStatus.Ready, readiness.Single(r => r.ModuleId == "module-4").Status);
    }

    [Fact]
    public async Task Wrong_credentials_are_one_problem_naming_the_settings()
    {
        var app = await StartPortalAsync(grafana, _catalog, a => a.With("Grafana:Password", "not-the-password"));
        var readiness = await WithAsync(app, () => CheckAsync(app));

        Assert.All(readiness, r =>
        {
            var problem = Assert.Single(r.Problems);
            Assert.Equal(ProblemKind.Grafana, problem.Kind);
            Assert.Contains("HTTP 401", problem.Message);
            Assert.Contains("Grafana__User and Grafana__Password", problem.Message);
        });
    }

    [Fact]
    public async Task A_service_account_token_is_enough_for_readiness_but_learner_accounts_need_a_server_admin()
    {
        var token = await ServiceAccountTokenAsync($"portal-{Guid.NewGuid():N}"[..20]);
        var app = await StartPortalAsync(grafana, _catalog, a => a.With("Grafana:User", null).With("Grafana:Password", null).With("Grafana:Token", token));
        var (readiness, outcomes) = await WithAsync(app, async () =>
        {
            var (_, gate) = await TestAccounts.SignedInAsync(app.Services, PanelRoles.Instructor);
            return (await CheckAsync(app), await LearnerAccountsOnStackTests.LearnersFor(app, gate).CreateAsync(new LearnerRequest(1), CancellationToken.None));
        });

        Assert.All(readiness, r => Assert.Equal(ReadinessStatus.Ready, r.Status));
        var outcome = Assert.Single(outcomes);
        Assert.False(outcome.Succeeded);
        Assert.Null(outcome.Password);
        Assert.Contains("set Grafana__User and Grafana__Password", outcome.Error);
        Assert.Null(await grafana.UserIdAsync("learner-01"));
    }

    [Fact]
    public async Task The_pre_class_check_of_an_instructor_lists_modules_services_disk_and_backups_and_is_audited_and_a_viewer_is_refused()
    {
        var report = await PreClassCheckFor(PanelRoles.Instructor).Invoke();

        Assert.Equal(PreClassVerdict.ReadyWithWarnings, report.Verdict);
        Assert.Equal(["Fundamentals on the test stack", "Organization on the test stack"],
            report.Items.Where(i => i.Area == "Modules").Select(i => i.Title));
        // Grafana starts with what it depends on: its databases and InfluxDB (whose read-only token its data source reads).
        Assert.Equal(["grafana", "influxdb", "postgres", "redis"], report.Items.Where(i => i.Area == "Services").Select(i => i.Title).Order());
        Assert.All(report.Items.Where(i => i.Area is "Modules" or "Services"), i => Assert.Equal(CheckStatus.Pass, i.Status));
        Assert.Equal(CheckStatus.Pass, report.Items.Single(i => i.Title == "Free disk for the next backup").Status);
        // This portal's database is new: its backup catalog has no set yet.
        var backup = report.Items.Single(i => i.Title == "Last successful backup");
        Assert.Equal(CheckStatus.Warning, backup.Status);
        Assert.StartsWith("No successful backup yet", backup.Detail);

        await Assert.ThrowsAsync<PanelAccessDeniedException>(() => PreClassCheckFor(PanelRoles.Viewer).Invoke());

        // A completed, verified set in the backup catalog: the backup item passes and so does the whole check.
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync())
        {
            db.BackupSets.Add(new BackupSet
            {
                Id = Guid.NewGuid(), CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-20), CompletedAt = DateTimeOffset.UtcNow.AddMinutes(-19),
                Trigger = BackupTrigger.Manual, CreatedBy = "instructor@panel.test", Status = BackupSetStatus.Completed, Folder = "20260302-080000-manual",
                CompressedBytes = 1024 * 1024, Verification = VerificationState.Passed, VerifiedAt = DateTimeOffset.UtcNow,
                Volumes = [new BackupSetVolume { VolumeName = "grafana-training-test_grafana_data", FileName = "grafana_data.tar.zst", Sha256 = new string('a', 64) }],
            });
            await db.SaveChangesAsync();
        }

        var after = await PreClassCheckFor(PanelRoles.Instructor).Invoke();

        Assert.Equal(PreClassVerdict.Ready, after.Verdict);
        Assert.Equal("19 min ago (manual, 1 volume, 1 MiB), verified.", after.Items.Single(i => i.Title == "Last successful backup").Detail);
        var audit = await TestAudit.EntriesAsync(_app, AuditActions.PreClassCheck);
        Assert.Equal([(true, "all modules: Ready with warnings"), (false, "all modules"), (true, "all modules: Ready")], audit.Select(e => (e.Succeeded, e.Target)));
    }

    private Func<Task<PreClassReport>> PreClassCheckFor(string role) => async () =>
    {
        var (_, gate) = await TestAccounts.SignedInAsync(_app.Services, role);
        using var scope = _app.Services.CreateScope();
        var check = new PreClassCheck(gate, _app.Services.GetRequiredService<IModuleCatalog>(), _app.Services.GetRequiredService<StackSnapshot>(),
            scope.ServiceProvider.GetRequiredService<ModuleReadinessChecker>(), _app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(),
            _app.Services.GetRequiredService<IAuditLog>(), Options.Create(new PreClassOptions { MinimumFreeBytes = 1024 }),
            Options.Create(new BackupOptions { Directory = Path.GetTempPath() }), TimeProvider.System);
        return await check.RunAsync(CancellationToken.None);
    };

    /// <summary>Runs <paramref name="test"/> on a portal of its own, then stops it and drops its database.</summary>
    private static async Task<T> WithAsync<T>(PanelAppFactory app, Func<Task<T>> test)
    {
        try
        {
            return await test();
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    private async Task<string> ServiceAccountTokenAsync(string name)
    {
        using var account = await grafana.Admin.PostAsJsonAsync("api/serviceaccounts", new { name, role = "Admin" });
        account.EnsureSuccessStatusCode();
        var id = (await account.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        using var token = await grafana.Admin.PostAsJsonAsync($"api/serviceaccounts/{id}/tokens", new { name = "readiness" });
        token.EnsureSuccessStatusCode();
        return (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }
}
