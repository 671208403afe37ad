namespace GrafanaPanel.Web.Tests;

/// <summary>Files of the repository the tests run from (the real deploy/ files, not copies).</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GrafanaPanel.sln")) && File.Exists(Path.Combine(dir.FullName, "docker-compose.yml")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root (GrafanaPanel.sln + docker-compose.yml) above {AppContext.BaseDirectory}.");
    }
}
