using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

public sealed class SecretsTests
{
    private static readonly string[] RequiredSecrets =
    [
        "GRAFANA_ADMIN_PASSWORD", "GRAFANA_SECRET_KEY", "GRAFANA_DB_PASSWORD", "POSTGRES_PASSWORD",
        "REDIS_PASSWORD", "INFLUXDB_ADMIN_PASSWORD", "INFLUXDB_ADMIN_TOKEN", "PANEL_DB_PASSWORD",
    ];

    [Fact]
    public void The_compose_file_requires_exactly_the_listed_secrets() =>
        Assert.Equal(RequiredSecrets.Order(), Compose.RequiredVariablesInComposeFile().Order());

    public static TheoryData<string, bool> MissingOrEmptySecrets()
    {
        var data = new TheoryData<string, bool>();
        foreach (var secret in RequiredSecrets)
        {
            data.Add(secret, false);
            data.Add(secret, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MissingOrEmptySecrets))]
    public async Task Compose_refuses_to_start_naming_a_secret_that_is_missing_or_empty(string secret, bool presentButEmpty)
    {
        var example = EnvFile.Load(Repo.EnvExample);
        var envFile = (presentButEmpty ? example.With(secret, "") : example.Without(secret)).WriteTemporary();
        try
        {
            var result = await Compose.RunAsync(envFile, "config", "--quiet");

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains($"{secret} is required", result.StandardError);
        }
        finally
        {
            File.Delete(envFile);
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
    public void The_example_env_file_holds_placeholders_not_secrets()
    {
        var example = EnvFile.Load(Repo.EnvExample);

        Assert.All(RequiredSecrets,
            secret => Assert.Contains("CHANGE", example[secret], StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task No_env_file_with_real_secrets_is_committed()
    {
        var result = await Tool.RunAsync("git", ["ls-files", "--", ".env", "*/.env"], TimeSpan.FromSeconds(30));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StandardOutput.Trim());
    }
}
