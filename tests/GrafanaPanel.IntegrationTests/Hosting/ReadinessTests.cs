using System.Net;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;

namespace GrafanaPanel.IntegrationTests.Hosting;

public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_is_healthy_with_the_real_database_and_docker_engine()
    {
        await using var app = new PanelAppFactory();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var client = app.CreateAnonymousClient();

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
            using var client = app.CreateAnonymousClient();

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
    public async Task Readyz_names_host_port_and_database_when_postgres_is_unreachable_and_liveness_stays_up()
    {
        // Port 1 on loopback: nothing listens there, so every attempt fails fast.
        await using var app = new UnreachableDatabaseFactory();
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });

        var (status, body) = await ReadyzAsync(client);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var database = body.GetProperty("checks").GetProperty("database");
        Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
        var message = database.GetProperty("message").GetString()!;
        Assert.Contains("host 127.0.0.1", message);
        Assert.Contains("port 1", message);
        Assert.Contains("database nowhere", message);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
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
