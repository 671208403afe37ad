using System.Net;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

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
