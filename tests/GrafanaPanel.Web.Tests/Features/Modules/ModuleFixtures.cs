using System.Collections.Immutable;
using GrafanaPanel.Web.Features.Modules;

namespace GrafanaPanel.Web.Tests.Features.Modules;

/// <summary>Modules, catalogs and a Grafana that answers what the test says.</summary>
public static class ModuleFixtures
{
    public static TrainingModule Module(
        string id = "module-1",
        string[]? services = null,
        string[]? dashboards = null,
        string[]? dataSources = null,
        int? orgId = null) =>
        new(id, $"Title of {id}", $"Summary of {id}", ["A goal"], [.. services ?? ["grafana"]],
            [
                .. (dashboards ?? []).Select(uid => new ModuleLink($"Dashboard {uid}", ModuleLinkKind.Dashboard, uid, null, null, 1)),
                .. (dataSources ?? []).Select(uid => new ModuleLink($"Explore {uid}", ModuleLinkKind.Explore, uid,
                    new ExploreQuery(uid, "prometheus", "up"), null, 1)),
            ],
            orgId, null, false, 1);

    public static ModuleCatalogState Catalog(params TrainingModule[] modules) =>
        new(new ModuleCatalog("/etc/grafana-panel/modules.yaml", [.. modules]), null, DateTimeOffset.UtcNow);
}

/// <summary>A module catalog the test sets; <see cref="Set"/> raises Changed as the file watcher would.</summary>
public sealed class FakeModuleCatalog(ModuleCatalogState state) : IModuleCatalog
{
    public ModuleCatalogState Current { get; private set; } = state;

    public event Action<ModuleCatalogState>? Changed;

    public int Refreshes { get; private set; }

    public void Refresh() => Refreshes++;

    public void Set(ModuleCatalogState state)
    {
        Current = state;
        Changed?.Invoke(state);
    }
}

/// <summary>A Grafana with the dashboards, folders and data sources the test puts in it, or unreachable.</summary>
public sealed class FakeGrafanaApi : IGrafanaApi
{
    public string Endpoint => "http://grafana:3000";

    public HashSet<string> Dashboards { get; } = [];

    public HashSet<string> Folders { get; } = [];

    public HashSet<string> DataSources { get; } = [];

    /// <summary>When set, every call fails with it.</summary>
    public GrafanaApiException? Failure { get; set; }

    /// <summary>When set, every dashboard, folder and data source check fails with it (health still answers).</summary>
    public GrafanaApiException? PieceFailure { get; set; }

    public bool DatabaseOk { get; set; } = true;

    public List<string> Calls { get; } = [];

    public Task<GrafanaHealth> GetHealthAsync(CancellationToken ct) => Answer("health", () => new GrafanaHealth("12.3.1", DatabaseOk));

    public Task<bool> DashboardExistsAsync(string uid, int? orgId, CancellationToken ct) => Answer($"dashboard {uid}", () => Piece(Dashboards.Contains(uid)));

    public Task<bool> FolderExistsAsync(string uid, int? orgId, CancellationToken ct) => Answer($"folder {uid}", () => Piece(Folders.Contains(uid)));

    public Task<bool> DataSourceExistsAsync(string uid, int? orgId, CancellationToken ct) => Answer($"datasource {uid}", () => Piece(DataSources.Contains(uid)));

    private bool Piece(bool present) => PieceFailure is { } failure ? throw failure : present;

    public Task<int> CreateUserAsync(GrafanaNewUser user, CancellationToken ct) => throw new NotSupportedException();

    public Task<GrafanaUser?> FindUserAsync(int id, CancellationToken ct) => throw new NotSupportedException();

    public Task DeleteUserAsync(int id, CancellationToken ct) => throw new NotSupportedException();

    public Task<int> CreateOrgAsync(string name, CancellationToken ct) => throw new NotSupportedException();

    public Task<int?> FindOrgAsync(string name, CancellationToken ct) => throw new NotSupportedException();

    public Task DeleteOrgAsync(int orgId, CancellationToken ct) => throw new NotSupportedException();

    public Task AddOrgUserAsync(int orgId, string loginOrEmail, string role, CancellationToken ct) => throw new NotSupportedException();

    private Task<T> Answer<T>(string call, Func<T> answer)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }

        return Failure is { } failure ? Task.FromException<T>(failure) : Task.FromResult(answer());
    }
}
