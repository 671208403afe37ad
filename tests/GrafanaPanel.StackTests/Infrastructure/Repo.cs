namespace GrafanaPanel.StackTests.Infrastructure;

/// <summary>Paths in the repository the tests run from.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string ComposeFile => PathOf("docker-compose.yml");

    public static string EnvExample => PathOf(".env.example");

    public static string Deploy => PathOf("deploy");

    public static string StackScripts => PathOf("tests", "stack");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "docker-compose.yml")) &&
                File.Exists(Path.Combine(dir.FullName, "GrafanaPanel.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root (docker-compose.yml + GrafanaPanel.sln) above {AppContext.BaseDirectory}.");
    }
}
