using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Modules;

/// <summary>
/// Stops the test stack's grafana container (docker compose stop) and starts it again afterwards, also when the test
/// fails; it runs in the offline Grafana collection, whose tests run one after another, so no other test sees it down.
/// </summary>
[Collection(OfflineGrafanaCollection.Name)]
public sealed class StoppedGrafanaTests(OfflineGrafana grafana) : IAsyncLifetime
{
    private readonly string _catalog = Path.Combine(Path.GetTempPath(), $"modules-{Guid.NewGuid():N}.yaml");
    private PanelAppFactory _app = default!;

    public async ValueTask InitializeAsync()
    {
        await File.WriteAllTextAsync(_catalog, ModuleReadinessOnStackTests.StartedServicesCatalog);
        _app = await ModuleReadinessOnStackTests.StartPortalAsync(grafana, _catalog);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await grafana.ComposeAsync("up", "--detach", "--no-build", "--wait", "--wait-timeout", "120", "grafana");
        }
        finally
        {
            await ((IAsyncLifetime)_app).DisposeAsync();
            File.Delete(_catalog);
        }
    }

    [Fact]
    public async Task A_stopped_grafana_is_named_as_a_service_that_is_down_and_as_unreachable()
    {
        var snapshot = _app.Services.GetRequiredService<StackSnapshot>();

        await grafana.ComposeAsync("stop", "grafana");
        await Eventually.HoldsAsync(() => snapshot.Current.Find("grafana")?.Health == ServiceHealth.Down, TimeSpan.FromSeconds(60),
            "grafana down in the portal's snapshot");

        var module = _app.Services.GetRequiredService<IModuleCatalog>().Current.Catalog.Find("fundamentals")!;
        using var scope = _app.Services.CreateScope();
        var inventory = await scope.ServiceProvider.GetRequiredService<ModuleReadinessChecker>().ProbeGrafanaAsync([module], CancellationToken.None);
        var readiness = ModuleReadinessChecker.Evaluate(module, snapshot.Current, inventory);

        Assert.Equal(ReadinessStatus.NotReady, readiness.Status);
        var service = Assert.Single(readiness.Problems, p => p.Kind == ProblemKind.Service);
        Assert.Equal("grafana", service.Subject);
        Assert.Equal("Service grafana is down (exited).", service.Message);
        var unreachable = Assert.Single(readiness.Problems, p => p.Kind == ProblemKind.Grafana);
        Assert.StartsWith($"Grafana at {grafana.Url} is unreachable", unreachable.Message);
        Assert.Contains("refused", unreachable.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, readiness.Problems.Length);
    }
}
