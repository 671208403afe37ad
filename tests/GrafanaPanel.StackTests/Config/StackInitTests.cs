using System.Security.Cryptography;
using System.Text.RegularExpressions;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

/// <summary>scripts/stack-init.sh: writes .env with generated secrets and the socket's group, never over an existing one.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class StackInitTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("stacktests-init-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Task<ToolResult> InitAsync(string output, IReadOnlyDictionary<string, string?>? environment = null) =>
        Tool.RunAsync("bash", [Repo.PathOf("scripts", "stack-init.sh"), "--output", output], TimeSpan.FromMinutes(1), environment: environment);

    [Fact]
    public async Task It_writes_every_variable_of_the_example_with_strong_generated_secrets_readable_by_the_owner_only()
    {
        var path = Path.Combine(_folder, ".env");

        var result = await InitAsync(path, new Dictionary<string, string?> { ["DOCKER_GID"] = null });

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var env = EnvFile.Load(path);
        var example = EnvFile.Load(Repo.EnvExample);
        Assert.Equal(example.Keys, env.Keys);
        foreach (var secret in SecretsTests.RequiredSecrets)
        {
            Assert.True(env[secret].Length >= 32, $"{secret} has {env[secret].Length} characters");
            Assert.Matches(secret == "GRAFANA_ADMIN_PASSWORD" ? "^[A-Za-z0-9-]+$" : "^[A-Za-z0-9]+$", env[secret]);
            Assert.DoesNotContain(env[secret], result.Output, StringComparison.Ordinal);
        }

        // Grafana's password policy: upper case, lower case, a digit and a symbol.
        Assert.Matches(GrafanaPolicy(), env["GRAFANA_ADMIN_PASSWORD"]);
        // No two secrets alike, and the rest of the example unchanged.
        Assert.Equal(SecretsTests.RequiredSecrets.Length, SecretsTests.RequiredSecrets.Select(s => env[s]).Distinct().Count());
        Assert.All(example.Keys.Except([.. SecretsTests.RequiredSecrets, "DOCKER_GID"]), key => Assert.Equal(example[key], env[key]));
        // The Docker socket's group, as `stat -c %g` reads it.
        var stat = await Tool.RunAsync("stat", ["-c", "%g", "/var/run/docker.sock"], TimeSpan.FromSeconds(10));
        Assert.Equal(stat.StandardOutput.Trim(), env["DOCKER_GID"]);

        // Compose accepts it as it is.
        var config = await Compose.RunAsync(path, "config", "--quiet");
        Assert.True(config.ExitCode == 0, config.Output);
    }

    [Fact]
    public async Task Two_runs_generate_different_secrets()
    {
        var first = Path.Combine(_folder, "first.env");
        var second = Path.Combine(_folder, "second.env");

        Assert.Equal(0, (await InitAsync(first)).ExitCode);
        Assert.Equal(0, (await InitAsync(second)).ExitCode);

        var a = EnvFile.Load(first);
        var b = EnvFile.Load(second);
        Assert.All(SecretsTests.RequiredSecrets, secret => Assert.NotEqual(a[secret], b[secret]));
    }

    [Fact]
    public async Task It_refuses_to_overwrite_an_existing_env_file_and_leaves_it_unchanged()
    {
        var path = Path.Combine(_folder, ".env");
        Assert.Equal(0, (await InitAsync(path)).ExitCode);
        var before = SHA256.HashData(await File.ReadAllBytesAsync(path));

        var again = await InitAsync(path);

        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains($"{path} already exists; it is left unchanged", again.StandardError);
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(path)));
    }

    [Fact]
    public async Task It_refuses_a_docker_group_that_is_not_a_number_and_writes_nothing()
    {
        var path = Path.Combine(_folder, ".env");

        var result = await InitAsync(path, new Dictionary<string, string?> { ["DOCKER_GID"] = "docker" });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("DOCKER_GID must be a numeric group id, not 'docker'", result.StandardError);
        Assert.False(File.Exists(path));
    }

    [GeneratedRegex("^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])(?=.*[^A-Za-z0-9]).{12,}$")]
    private static partial Regex GrafanaPolicy();
}
