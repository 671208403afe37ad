using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

public sealed class SecretsTests
{
    public static readonly string[] RequiredSecrets =
    [
        "GRAFANA_ADMIN_PASSWORD", "GRAFANA_SECRET_KEY", "GRAFANA_DB_PASSWORD", "POSTGRES_PASSWORD",
        "REDIS_PASSWORD", "INFLUXDB_ADMIN_PASSWORD", "INFLUXDB_ADMIN_TOKEN", "PANEL_DB_PASSWORD", "PANEL_METRICS_TOKEN",
    ];

    /// <summary>Required without being secret: the socket's group, which scripts/stack-init.sh reads from the socket.</summary>
    private static readonly string[] RequiredVariables = [.. RequiredSecrets, "DOCKER_GID"];

    [Fact]
    public void The_compose_file_requires_exactly_the_listed_variables() =>
        Assert.Equal(RequiredVariables.Order(), Compose.RequiredVariablesInComposeFile().Order());

    public static TheoryData<string, bool> MissingOrEmptyVariables()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in RequiredVariables)
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MissingOrEmptyVariables))]
    public async Task Compose_refuses_to_start_naming_a_variable_that_is_missing_or_empty_and_the_init_script(string name, bool presentButEmpty)
    {
        var complete = Compose.ExampleWithTestSecrets();
        var envFile = (presentButEmpty ? complete.With(name, "") : complete.Without(name)).WriteTemporary();
        try
        {
            var result = await Compose.RunAsync(envFile, "config", "--quiet");

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains($"{name} is not set (run scripts/stack-init.sh to write .env)", result.StandardError);
        }
        finally
        {
            File.Delete(envFile);
        }
    }

    [Fact]
    public async Task An_unchanged_copy_of_the_example_env_file_is_refused_naming_a_secret_and_the_init_script()
    {
        var copy = Path.Combine(Path.GetTempPath(), $"stacktests-{Guid.NewGuid():N}.env");
        File.Copy(Repo.EnvExample, copy);
        try
        {
            // `up` as a dry run: were the file accepted, nothing would be created.
            foreach (var command in new[] { "config", "up" })
            {
                var result = await Compose.RunAsync(copy, command == "config" ? ["config", "--quiet"] : ["--dry-run", "up", "--no-build", "--no-start"]);

                Assert.True(result.ExitCode != 0, $"docker compose {command} accepted .env.example unchanged: {result.Output}");
                Assert.Contains("run scripts/stack-init.sh", result.StandardError);
                Assert.Contains(RequiredVariables, v => result.StandardError.Contains($"{v} is not set", StringComparison.Ordinal));
            }
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void Every_variable_the_compose_file_reads_is_documented_in_the_example_env_file()
    {
        var documented = EnvFile.Load(Repo.EnvExample).Keys.ToHashSet();
        var undocumented = Compose.VariablesInComposeFile().Where(v => v != "COMPOSE_PROJECT_NAME" && !documented.Contains(v));

        Assert.Empty(undocumented);
    }

    [Fact]
    public void The_example_env_file_holds_no_secret_every_required_variable_is_empty()
    {
        var example = EnvFile.Load(Repo.EnvExample);

        Assert.All(RequiredVariables, name => Assert.Equal("", example[name]));
    }

    [Fact]
    public async Task No_env_file_with_real_secrets_is_committed()
    {
        var result = await Tool.RunAsync("git", ["ls-files", "--", ".env", "*/.env"], TimeSpan.FromSeconds(30));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StandardOutput.Trim());
    }
}
