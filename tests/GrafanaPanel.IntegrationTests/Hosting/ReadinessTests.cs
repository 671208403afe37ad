using System.Net;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace GrafanaPanel.IntegrationTests.Hosting;

public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_is_healthy_with_the_real_database_and_docker_engine_and_shows_details_only_when_signed_in()
    {
        await using var app = new PanelAppFactory();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var anonymous = app.CreateAnonymousClient();
            var (anonymousStatus, anonymousBody) = await ReadyzAsync(anonymous);
            Assert.Equal(HttpStatusCode.OK, anonymousStatus);
            Assert.Equal("Healthy", anonymousBody.GetProperty("status").GetString());
            Assert.False(anonymousBody.TryGetProperty("checks", out _));

            using var client = await app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
            var (status, body) = await ReadyzAsync(client);

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
            Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("docker").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task Readyz_names_the_docker_endpoint_when_it_is_wrong()
    {
        await using var app = new PanelAppFactory().With("Docker:Endpoint", "unix:///tmp/no-such-docker.sock");
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var anonymous = app.CreateAnonymousClient();
            var anonymousResponse = await anonymous.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, anonymousResponse.StatusCode);
            Assert.Equal("{\"status\":\"Unhealthy\"}", await anonymousResponse.Content.ReadAsStringAsync());
            using var client = await app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);

            var (status, body) = await ReadyzAsync(client);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            var docker = body.GetProperty("checks").GetProperty("docker");
            Assert.Equal("Unhealthy", docker.GetProperty("status").GetString());
            Assert.Contains("/tmp/no-such-docker.sock", docker.GetProperty("message").GetString());
            Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task When_postgres_is_unreachable_readyz_says_unhealthy_the_check_names_host_port_and_database_and_liveness_stays_up()
    {
        // Port 1 on loopback: nothing listens there, so every attempt fails fast.
        await using var app = new UnreachableDatabaseFactory();
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });

        var response = await client.GetAsync("/readyz");

        // Anonymous: the status only, no host, port or error text.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("{\"status\":\"Unhealthy\"}", await response.Content.ReadAsStringAsync());
        // What a signed-in user sees (signing in needs the database, so the check is asked directly).
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var message = report.Entries["database"].Description!;
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["database"].Status);
        Assert.Contains("host 127.0.0.1", message);
        Assert.Contains("port 1", message);
        Assert.Contains("database nowhere", message);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task The_sign_in_page_says_in_words_that_the_database_is_unreachable()
    {
        await using var app = new UnreachableDatabaseFactory();
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });

        var response = await client.GetAsync("/account/login");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-test=\"database-unreachable\"", html);
        Assert.Contains("host 127.0.0.1, port 1, database nowhere", html);
        Assert.DoesNotContain("data-test=\"login-form\"", html);
        Assert.DoesNotContain("Something went wrong", html);
    }

    [Fact]
    public async Task A_database_that_does_not_exist_yet_is_created_at_start_and_readyz_turns_healthy()
    {
        var name = $"gp_fresh_{Guid.NewGuid():N}"[..30];
        var connectionString = new NpgsqlConnectionStringBuilder(TestPostgres.AdminConnectionString) { Database = name }.ConnectionString;
        await using var app = new PanelAppFactory { Database = connectionString };
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var client = app.CreateAnonymousClient();

            var (status, body) = await ReadyzAsync(client);

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("Healthy", body.GetProperty("status").GetString());
            Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM pg_database WHERE datname = '{name}'"));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
            await TestPostgres.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task A_missing_database_its_user_may_not_create_is_named_with_the_statement_to_run_and_nothing_is_created()
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var role = $"gp_nocreate_{suffix}";
        var name = $"gp_missing_{suffix}";
        await ScalarAsync($"CREATE ROLE {role} LOGIN PASSWORD 'Role-password-1' NOCREATEDB");
        var connectionString = new NpgsqlConnectionStringBuilder(TestPostgres.AdminConnectionString)
        {
            Database = name, Username = role, Password = "Role-password-1",
        }.ConnectionString;
        await using var app = new PanelAppFactory { Database = connectionString };
        await app.InitializeAsync();
        try
        {
            using var client = app.CreateAnonymousClient();

            var (status, _) = await ReadyzAsync(client);
            var login = await client.GetStringAsync("/account/login");
            var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            var message = report.Entries["database"].Description!;
            Assert.Contains($"\"{name}\" does not exist", message);
            Assert.Contains($"CREATE DATABASE \"{name}\" OWNER \"{role}\"", message);
            Assert.Contains("database-unreachable", login);
            Assert.Contains("CREATE DATABASE", System.Net.WebUtility.HtmlDecode(login));
            Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM pg_database WHERE datname = '{name}'"));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await ScalarAsync($"DROP ROLE IF EXISTS {role}");
        }
    }

    private static async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestPostgres.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync() is long value ? value : 0;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyzAsync(HttpClient client)
    {
        var response = await client.GetAsync("/readyz");
        var json = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(json).RootElement);
    }

    private sealed class UnreachableDatabaseFactory : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseSetting("ConnectionStrings:Panel", "Host=127.0.0.1;Port=1;Database=nowhere;Username=x;Password=y;Timeout=2");
            builder.UseSetting("Serilog:MinimumLevel:Default", "Fatal");
        }
    }
}
