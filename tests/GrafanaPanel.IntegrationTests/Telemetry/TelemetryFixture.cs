using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Backups;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Stack;
using GrafanaPanel.Web.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace GrafanaPanel.IntegrationTests.Telemetry;

/// <summary>
/// The real portal on the real daemon with its tracing exported in memory: one backup started through the HTTP API,
/// a backup schedule, a Grafana call and a probe, then the spans and the /metrics output (Prometheus and OpenMetrics)
/// the tests read.
/// </summary>
public sealed class TelemetryFixture : IAsyncLifetime
{
    public const string Collection = "telemetry";

    private BackupRig? _rig;
    private EngineBackupAppFactory? _portal;

    public SpanStore Spans { get; } = new();

    public string Volume { get; private set; } = "";

    public Guid SetId { get; private set; }

    public string Metrics { get; private set; } = "";

    public string OpenMetrics { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _rig = await BackupRig.CreateAsync();
        (Volume, _) = await _rig.VolumeWithServiceAsync("data", "app");
        _portal = new EngineBackupAppFactory(_rig.Project.Name)
        {
            TestServices = services => services.AddPanelTracing(tracing => tracing.AddInMemoryExporter(Spans)),
        };
        // Nothing listens on the discard port: the Grafana call fails fast, and is measured all the same.
        _portal.With("Grafana:Url", "http://127.0.0.1:9/");
        await _portal.ReadyAsync(Volume);

        var user = await TestAccounts.CreateAsync(_portal.Services, "teacher@panel.test", PanelRoles.Instructor);
        var principal = await TestAccounts.PrincipalAsync(_portal.Services, user);
        var tokens = new AccessTokens(_portal.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(), TestAccounts.GateFor(_portal.Services, principal),
            _portal.Services.GetRequiredService<IAuditLog>(), TimeProvider.System);
        var token = await tokens.CreateAsync("telemetry-test", PanelRoles.Instructor, 1);
        _portal.KnownSecrets.Add(token.Secret);
        using var client = _portal.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Secret);

        var started = await client.PostAsJsonAsync("/api/v1/backups/sets", new { volumes = new[] { Volume } });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        SetId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var set = await _portal.WaitForSetAsync(SetId, s => s.Status != BackupSetStatus.Running, "finished");
        Assert.True(set.Status == BackupSetStatus.Completed, set.Error);
        // The job's span ends when Hangfire's filter sees the job return, just after the set is recorded.
        await Eventually.HoldsAsync(() => Spans.Snapshot().Any(s => s.DisplayName == "job backup"), EngineBackupAppFactory.Wait, "the backup job's span");

        var schedule = await client.PostAsJsonAsync("/api/v1/backups/schedules", new { name = "nightly", volumes = new[] { Volume }, cron = "0 2 * * *" });
        Assert.Equal(HttpStatusCode.Created, schedule.StatusCode);

        using (var scope = _portal.Services.CreateScope())
        {
            await Assert.ThrowsAsync<GrafanaApiException>(() => scope.ServiceProvider.GetRequiredService<IGrafanaApi>().GetHealthAsync(CancellationToken.None));
        }

        var closed = new ContainerRecord("probe-test", "probe-test", "none", ContainerState.Running, "", null, DateTimeOffset.UtcNow, null, null, 0, 0, [],
            new Dictionary<string, string> { ["lab"] = "127.0.0.1" }, [], new Dictionary<string, string> { [ContainerRecord.ServiceLabel] = "probe-test" });
        var probe = await _portal.Services.GetRequiredService<ServiceProber>().ProbeAsync(closed, new ProbeDefinition { Kind = ProbeKind.Tcp, Port = 9 },
            TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.False(probe.Healthy);

        Metrics = await client.GetStringAsync("/metrics");
        using var openMetrics = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        openMetrics.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
        OpenMetrics = await (await client.SendAsync(openMetrics)).Content.ReadAsStringAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_portal is not null)
        {
            await _portal.DisposeAllAsync();
        }

        if (_rig is not null)
        {
            await _rig.DisposeAsync();
        }
    }
}

/// <summary>The exporter's collection, safe to read while background work (Npgsql, probes) keeps adding spans.</summary>
public sealed class SpanStore : Collection<Activity>
{
    private readonly Lock _gate = new();

    public IReadOnlyList<Activity> Snapshot()
    {
        lock (_gate)
        {
            return [.. Items];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (_gate)
        {
            base.InsertItem(index, item);
        }
    }
}

[CollectionDefinition(TelemetryFixture.Collection)]
public sealed class TelemetryCollection : ICollectionFixture<TelemetryFixture>;
