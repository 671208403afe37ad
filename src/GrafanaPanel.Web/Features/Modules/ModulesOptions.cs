namespace GrafanaPanel.Web.Features.Modules;

/// <summary>Where the module catalog lives (section <c>Modules</c>).</summary>
public sealed class ModulesOptions
{
    public const string Section = "Modules";

    /// <summary>Where the container image and the compose stack put the catalog (deploy/portal mounted read-only).</summary>
    public const string ContainerCatalogPath = "/etc/grafana-panel/modules.yaml";

    /// <summary>The catalog's place in the repository, relative to its root.</summary>
    public static readonly string RepositoryCatalogPath = Path.Combine("deploy", "portal", "modules.yaml");

    /// <summary>The catalog's name in a published build's folder (the project ships deploy/portal/modules.yaml there).</summary>
    public const string PublishedCatalogName = "modules.yaml";

    /// <summary>
    /// The catalog file; relative paths are taken from the content root. Empty: the repository's
    /// deploy/portal/modules.yaml when the portal runs inside a checkout, else the catalog published beside the
    /// portal's own files, else <see cref="ContainerCatalogPath"/>.
    /// </summary>
    public string CatalogPath { get; set; } = "";

    /// <summary>The file the portal reads, following the rules of <see cref="CatalogPath"/>.</summary>
    public static string ResolveCatalogPath(string? configured, string contentRoot, string? appDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured, contentRoot);
        }

        // Run from source the content root is src/GrafanaPanel.Web (or a test's bin folder below the repository):
        // the repository's own file is the one an instructor edits there.
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RepositoryCatalogPath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        // A published build started from any other folder: the catalog that was published with it.
        var published = Path.Combine(appDirectory ?? AppContext.BaseDirectory, PublishedCatalogName);
        return File.Exists(published) ? published : ContainerCatalogPath;
    }
}
