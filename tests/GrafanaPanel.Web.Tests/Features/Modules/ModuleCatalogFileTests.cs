using GrafanaPanel.Web.Features.Modules;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class ModuleCatalogFileTests : IDisposable
{
    private const string Good = "modules:\n  - id: module-1\n    title: First\n";
    private const string Better = "modules:\n  - id: module-1\n    title: First\n  - id: module-2\n    title: Second\n";
    private const string Broken = "modules:\n  - id: module-1\n    title: First\n    colour: blue\n";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("catalog-");

    private string CatalogPath => Path.Combine(_dir.FullName, "modules.yaml");

    private ModuleCatalogFile Open(string? configured = null) =>
        new(Options.Create(new ModulesOptions { CatalogPath = configured ?? CatalogPath }), new Environment(_dir.FullName), TimeProvider.System,
            NullLogger<ModuleCatalogFile>.Instance);

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void A_relative_path_is_taken_from_the_content_root()
    {
        File.WriteAllText(CatalogPath, Good);

        using var catalog = Open("modules.yaml");

        Assert.Equal(CatalogPath, catalog.Path);
        Assert.Equal("First", Assert.Single(catalog.Current.Catalog.Modules).Title);
    }

    [Fact]
    public void Without_a_setting_the_repository_s_catalog_is_found_above_the_content_root()
    {
        var contentRoot = RepositoryFiles.PathOf("src", "GrafanaPanel.Web");

        Assert.Equal(RepositoryFiles.PathOf("deploy", "portal", "modules.yaml"), ModulesOptions.ResolveCatalogPath("", contentRoot));
        Assert.Equal(ModulesOptions.ContainerCatalogPath, ModulesOptions.ResolveCatalogPath(null, "/app"));
    }

    [Fact]
    public void Without_a_setting_outside_a_checkout_the_catalog_published_beside_the_portal_is_used()
    {
        var appDirectory = Path.GetDirectoryName(CatalogPath)!;
        File.WriteAllText(Path.Combine(appDirectory, ModulesOptions.PublishedCatalogName), Good);

        Assert.Equal(Path.Combine(appDirectory, "modules.yaml"), ModulesOptions.ResolveCatalogPath("", "/", appDirectory));
        Assert.Equal("/elsewhere/modules.yaml", ModulesOptions.ResolveCatalogPath("/elsewhere/modules.yaml", "/", appDirectory));
    }

    [Fact]
    public void Without_a_setting_a_published_folder_without_a_catalog_falls_back_to_the_container_path()
    {
        var appDirectory = Path.GetDirectoryName(CatalogPath)!;

        Assert.Equal(ModulesOptions.ContainerCatalogPath, ModulesOptions.ResolveCatalogPath("", "/", appDirectory));
    }

    [Fact]
    public void A_missing_file_is_an_error_that_says_which_setting_points_at_it()
    {
        using var catalog = Open();

        Assert.Empty(catalog.Current.Catalog.Modules);
        Assert.Equal(CatalogPath, catalog.Current.Error!.Path);
        Assert.Contains("Modules__CatalogPath", catalog.Current.Error.Problem);
    }

    [Fact]
    public async Task A_change_is_picked_up_by_the_watcher_a_broken_edit_keeps_the_last_good_catalog_and_a_fix_clears_the_error()
    {
        File.WriteAllText(CatalogPath, Good);
        using var catalog = Open();
        await catalog.StartAsync(CancellationToken.None);
        var changes = new List<ModuleCatalogState>();
        catalog.Changed += changes.Add;

        File.WriteAllText(CatalogPath, Better);
        await WaitUntilAsync(() => catalog.Current.Catalog.Modules.Length == 2, "the second module");
        Assert.Null(catalog.Current.Error);

        File.WriteAllText(CatalogPath, Broken);
        await WaitUntilAsync(() => catalog.Current.Error is not null, "the error of the broken file");
        Assert.Equal(2, catalog.Current.Catalog.Modules.Length);
        Assert.Equal(4, catalog.Current.Error!.Line);
        Assert.Contains("unknown key 'colour'", catalog.Current.Error.Problem);

        // An editor that writes a new file and renames it over the old one.
        File.WriteAllText(CatalogPath + ".tmp", Good);
        File.Move(CatalogPath + ".tmp", CatalogPath, overwrite: true);
        await WaitUntilAsync(() => catalog.Current.Error is null && catalog.Current.Catalog.Modules.Length == 1, "the fixed file");
        Assert.True(changes.Count >= 3);
    }

    [Fact]
    public void Refresh_reads_a_changed_file_without_the_watcher_and_ignores_an_unchanged_one()
    {
        File.WriteAllText(CatalogPath, Good);
        using var catalog = Open();
        var changes = 0;
        catalog.Changed += _ => changes++;

        catalog.Refresh();
        Assert.Equal(0, changes);

        File.WriteAllText(CatalogPath, Better);
        catalog.Refresh();
        Assert.Equal(1, changes);
        Assert.Equal(2, catalog.Current.Catalog.Modules.Length);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The catalog did not show {what} within 10 s.");
            }

            await Task.Delay(50);
        }
    }

    private sealed class Environment(string contentRoot) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";

        public string ApplicationName { get; set; } = "GrafanaPanel.Web";

        public string ContentRootPath { get; set; } = contentRoot;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
