using System.Net;
using System.Net.Http.Headers;
using GrafanaPanel.IntegrationTests.Infrastructure;

namespace GrafanaPanel.IntegrationTests.Hosting;

public sealed class RestartAndMetricsTests
{
    [Fact]
    public async Task A_user_stays_signed_in_across_a_restart_because_the_keys_live_in_the_database()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        try
        {
            string cookie;
            await using (var first = new PanelAppFactory { Database = database })
            {
                await first.InitializeAsync();
                await first.WaitUntilDatabaseReadyAsync();
                using var client = first.CreateAnonymousClient();
                var signIn = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
                cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("GrafanaPanel.Auth=", StringComparison.Ordinal)).Split(';')[0];
            }

            await using var second = new PanelAppFactory { Database = database };
            await second.InitializeAsync();
            await second.WaitUntilDatabaseReadyAsync();
            using var restarted = second.CreateAnonymousClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", cookie);

            var response = await restarted.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task Metrics_are_open_by_default_and_carry_http_metrics()
    {
        await using var app = new PanelAppFactory();
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var client = app.CreateAnonymousClient();
            await client.GetAsync("/healthz");

            var body = await client.GetStringAsync("/metrics");

            Assert.Contains("http_requests_received_total", body);
            Assert.DoesNotContain(PanelAppFactory.AdminPassword, body);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task Metrics_need_the_bearer_token_when_one_is_configured()
    {
        await using var app = new PanelAppFactory().With("Metrics:BearerToken", "scrape-secret-1");
        await app.InitializeAsync();
        try
        {
            await app.WaitUntilDatabaseReadyAsync();
            using var client = app.CreateAnonymousClient();

            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/metrics")).StatusCode);
            using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
            foreach (var guess in new[] { "scrape-secret-2", "scrape-secret-", "scrape-secret-1x", "SCRAPE-SECRET-1" })
            {
                using var close = new HttpRequestMessage(HttpMethod.Get, "/metrics");
                close.Headers.Authorization = new AuthenticationHeaderValue("Bearer", guess);
                Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(close)).StatusCode);
            }

            using var right = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "scrape-secret-1");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(right)).StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
