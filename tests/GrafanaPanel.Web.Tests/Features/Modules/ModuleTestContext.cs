using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Tests.Features.Modules;

/// <summary>
/// The module pages' shared setup: a catalog, a live stack snapshot, a Grafana that answers from the test's sets,
/// and links built for http://lab.example:3000.
/// </summary>
public abstract class ModuleTestContext : PanelTestContext
{
    protected ModuleTestContext(FakeModuleCatalog catalog)
    {
        Catalog = catalog;
        Services.AddSingleton<IGrafanaApi>(Grafana);
        Services.AddSingleton(Snapshot);
        Services.AddSingleton<IModuleCatalog>(catalog);
        Services.AddSingleton(new GrafanaLinks("http://lab.example:3000"));
        Services.AddScoped<ModuleReadinessChecker>();
        Resets = new Resets.FakeResetService(Snapshot);
        Services.AddSingleton<IResetService>(Resets);
    }

    protected Resets.FakeResetService Resets { get; }

    protected FakeGrafanaApi Grafana { get; } = new();

    protected StackSnapshot Snapshot { get; } = new(Options.Create(new StackOptions()), TimeProvider.System);

    protected FakeModuleCatalog Catalog { get; }
}
