using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Components;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>
/// What the Modules page and a module's page share: the catalog and the stack as they are now, and Grafana's last
/// answer. Grafana is asked once the circuit is live (never during prerendering, where it would delay the first
/// paint) and again on request; every stack or catalog change re-judges the modules without asking Grafana again.
/// </summary>
public abstract class ModuleReadinessPage : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource _closed = new();

    [Inject] protected IModuleCatalog Catalog { get; set; } = default!;

    [Inject] protected StackSnapshot Snapshot { get; set; } = default!;

    [Inject] protected ModuleReadinessChecker Checker { get; set; } = default!;

    [Inject] protected GrafanaLinks Links { get; set; } = default!;

    protected ModuleCatalogState CatalogState { get; private set; } = default!;

    protected StackView Stack { get; private set; } = default!;

    protected GrafanaInventory? Grafana { get; private set; }

    protected bool CheckingGrafana { get; private set; }

    /// <summary>The modules whose Grafana pieces this page checks.</summary>
    protected abstract IEnumerable<TrainingModule> ModulesToCheck { get; }

    protected ModuleReadiness ReadinessOf(TrainingModule module) => ModuleReadinessChecker.Evaluate(module, Stack, Grafana);

    protected override void OnInitialized()
    {
        // The file watcher may have missed a change (network file systems, some bind mounts): read it again now.
        Catalog.Refresh();
        CatalogState = Catalog.Current;
        Stack = Snapshot.Current;
        Catalog.Changed += OnCatalogChanged;
        Snapshot.Changed += OnStackChanged;
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            await CheckGrafanaAsync();
        }
    }

    protected async Task CheckGrafanaAsync()
    {
        if (CheckingGrafana)
        {
            return;
        }

        CheckingGrafana = true;
        StateHasChanged();
        try
        {
            Grafana = await Checker.ProbeGrafanaAsync(ModulesToCheck.ToList(), _closed.Token);
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested)
        {
            return;
        }
        finally
        {
            CheckingGrafana = false;
        }

        StateHasChanged();
    }

    private void OnCatalogChanged(ModuleCatalogState state) => _ = InvokeAsync(() =>
    {
        CatalogState = state;
        StateHasChanged();
    });

    private void OnStackChanged(StackView view) => _ = InvokeAsync(() =>
    {
        Stack = view;
        StateHasChanged();
    });

    public void Dispose()
    {
        Catalog.Changed -= OnCatalogChanged;
        Snapshot.Changed -= OnStackChanged;
        _closed.Cancel();
        _closed.Dispose();
        GC.SuppressFinalize(this);
    }
}
