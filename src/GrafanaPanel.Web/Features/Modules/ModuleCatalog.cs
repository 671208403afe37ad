using System.Collections.Immutable;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>What a module link opens in Grafana.</summary>
public enum ModuleLinkKind
{
    Dashboard,
    Folder,
    Explore,
    Page,
}

/// <summary>Explore opened on one data source with one query (the data source type decides the query's field).</summary>
public sealed record ExploreQuery(string DataSourceUid, string DataSourceType, string Query);

/// <summary>
/// One Grafana link of a module. <see cref="Target"/> is the dashboard/folder uid, the page name, or (for Explore)
/// the data source uid; <see cref="OrgId"/> is the link's own organization, if it names one.
/// </summary>
public sealed record ModuleLink(string Title, ModuleLinkKind Kind, string Target, ExploreQuery? Explore, int? OrgId, int Line)
{
    /// <summary>The organization the link opens: its own, else its module's, else none (Grafana's current one).</summary>
    public int? OrgIdIn(TrainingModule module) => OrgId ?? module.OrgId;
}

/// <summary>One training module of the course, as the catalog file describes it.</summary>
public sealed record TrainingModule(
    string Id,
    string Title,
    string Summary,
    ImmutableArray<string> Goals,
    ImmutableArray<string> Services,
    ImmutableArray<ModuleLink> Links,
    int? OrgId,
    string? Baseline,
    bool LearnerAccounts,
    int Line);

/// <summary>The modules of one successfully read catalog file.</summary>
public sealed record ModuleCatalog(string Path, ImmutableArray<TrainingModule> Modules)
{
    public static ModuleCatalog Empty(string path) => new(path, []);

    public TrainingModule? Find(string id) => Modules.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));
}

/// <summary>Why a catalog file could not be used: the file, the line and column (when known) and the problem.</summary>
public sealed record CatalogError(string Path, int? Line, int? Column, string Problem)
{
    public override string ToString() =>
        Line is { } line ? $"{Path}, line {line}{(Column is { } column ? $", column {column}" : "")}: {Problem}" : $"{Path}: {Problem}";
}

public sealed class ModuleCatalogException(CatalogError error) : Exception(error.ToString())
{
    public CatalogError Error { get; } = error;
}

/// <summary>
/// The catalog the portal works with: the last good one, and the problem of the file as it is now (null when the
/// file is fine). A broken edit never empties the Modules page; it shows the error above the last good modules.
/// </summary>
public sealed record ModuleCatalogState(ModuleCatalog Catalog, CatalogError? Error, DateTimeOffset? LoadedAt);
