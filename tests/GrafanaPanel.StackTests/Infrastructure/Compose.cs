using System.Text.Json;
using System.Text.RegularExpressions;

namespace GrafanaPanel.StackTests.Infrastructure;

/// <summary><c>docker compose</c> on the repository's docker-compose.yml, isolated from the caller's shell.</summary>
public static partial class Compose
{
    /// <summary>Every variable the compose file reads, e.g. REDIS_PASSWORD.</summary>
    public static IReadOnlySet<string> VariablesInComposeFile() =>
        VariableReference().Matches(File.ReadAllText(Repo.ComposeFile)).Select(m => m.Groups[1].Value).ToHashSet();

    /// <summary>Variables written <c>${NAME:?message}</c>: compose refuses to run without them.</summary>
    public static IReadOnlySet<string> RequiredVariablesInComposeFile() =>
        RequiredReference().Matches(File.ReadAllText(Repo.ComposeFile)).Select(m => m.Groups[1].Value).ToHashSet();

    /// <summary>Runs docker compose with only <paramref name="envFile"/> as the source of the stack's variables.</summary>
    public static Task<ToolResult> RunAsync(string envFile, params string[] arguments)
    {
        // The caller's shell must not fill in (or hide) a missing variable, nor pick other files.
        var environment = EnvFile.Load(Repo.EnvExample).Keys
            .Concat(VariablesInComposeFile())
            .Concat(["COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_ENV_FILES"])
            .Distinct()
            .ToDictionary(name => name, _ => (string?)null);
        return Tool.RunAsync("docker",
            ["compose", "--project-directory", Repo.Root, "--env-file", envFile, "-f", Repo.ComposeFile, .. arguments],
            TimeSpan.FromMinutes(1), environment: environment);
    }

    /// <summary>
    /// .env.example with each required variable it leaves empty (the secrets, DOCKER_GID) filled in the way
    /// scripts/stack-init.sh does, with fixed test values: <c>test-</c> and the name in lower case, DOCKER_GID 999.
    /// </summary>
    public static EnvFile ExampleWithTestSecrets()
    {
        var env = EnvFile.Load(Repo.EnvExample);
        foreach (var name in RequiredVariablesInComposeFile().Where(n => env.Keys.Contains(n) && env[n].Length == 0))
        {
            env = env.With(name, name == "DOCKER_GID" ? "999" : $"test-{name.ToLowerInvariant().Replace('_', '-')}");
        }

        return env;
    }

    /// <summary>The resolved model (<c>docker compose config --format json</c>) with <see cref="ExampleWithTestSecrets"/>.</summary>
    public static async Task<JsonElement> ResolvedConfigAsync()
    {
        var envFile = ExampleWithTestSecrets().WriteTemporary();
        try
        {
            var result = await RunAsync(envFile, "config", "--format", "json");
            Assert.True(result.ExitCode == 0, $"docker compose config failed with .env.example and test secrets: {result.Output}");
            using var document = JsonDocument.Parse(result.StandardOutput);
            return document.RootElement.Clone();
        }
        finally
        {
            File.Delete(envFile);
        }
    }

    // $${NAME} is a literal for the container's shell, not compose's.
    [GeneratedRegex(@"(?<!\$)\$\{([A-Z][A-Z0-9_]*)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"(?<!\$)\$\{([A-Z][A-Z0-9_]*):\?")]
    private static partial Regex RequiredReference();
}
