using System.Net;
using GrafanaPanel.IntegrationTests.Infrastructure;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>
/// X-Forwarded-For/Proto are believed from the proxies of <c>Panel__KnownProxies</c>/<c>Panel__KnownNetworks</c> only.
/// The portal listens on a real loopback port, so the connection's address is 127.0.0.1 (or ::1).
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Fact]
    public async Task From_a_known_proxy_the_rate_limit_keys_on_the_forwarded_client_and_the_cookie_is_secure_for_forwarded_https()
    {
        await using var app = await StartAsync(Portal().With("Panel:KnownProxies", "127.0.0.1, ::1"));

        // Each client behind the proxy has an allowance of its own: six addresses, one bad attempt each, no 429.
        var statuses = await BadSignInsAsync(app.App, i => $"203.0.113.{i}");
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Redirect, s));
        // One client past the limit is still refused.
        var same = await BadSignInsAsync(app.App, _ => "198.51.100.7");
        Assert.Equal(HttpStatusCode.TooManyRequests, same[^1]);

        Assert.Contains("; secure", await SignInThroughProxyAsync(app.App), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task From_any_other_address_forwarded_headers_are_ignored()
    {
        await using var app = await StartAsync(Portal().With("Panel:KnownNetworks", "10.99.0.0/16"));

        // A forged X-Forwarded-For buys no fresh allowance: the burst is counted against the connection's address.
        var statuses = await BadSignInsAsync(app.App, i => $"203.0.113.{i}");
        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.Redirect));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [Fact]
    public async Task Forged_https_from_an_unknown_address_does_not_make_the_cookie_secure()
    {
        await using var app = await StartAsync(Portal().With("Panel:KnownProxies", "10.99.0.1"));
        Assert.DoesNotContain("; secure", await SignInThroughProxyAsync(app.App), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Panel:KnownProxies", "10.0.0.300", "Panel__KnownProxies: \"10.0.0.300\" is not an IP address")]
    [InlineData("Panel:KnownNetworks", "10.0.0.0/abc", "Panel__KnownNetworks: \"10.0.0.0/abc\" is not a network in CIDR notation")]
    [InlineData("Panel:KnownNetworks", "172.20.0.0/33", "Panel__KnownNetworks: \"172.20.0.0/33\"")]
    [InlineData("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true", "set Panel__KnownProxies")]
    public async Task A_bad_proxy_setting_stops_the_start_with_what_to_set(string key, string value, string message)
    {
        var app = new PanelAppFactory().With(key.Replace("ASPNETCORE_", "", StringComparison.Ordinal), value);
        await ((IAsyncLifetime)app).InitializeAsync();
        Exception? error;
        try
        {
            error = Record.Exception(() => app.Services);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(app.ConnectionString);
        }

        Assert.NotNull(error);
        Assert.Contains(message, Flatten(error));
    }

    /// <summary>Started, with its database ready; disposing it stops it and drops its database.</summary>
    private static async Task<Started> StartAsync(PanelAppFactory app)
    {
        await ((IAsyncLifetime)app).InitializeAsync();
        await app.WaitUntilDatabaseReadyAsync();
        return new Started(app);
    }

    private sealed class Started(PanelAppFactory app) : IAsyncDisposable
    {
        public PanelAppFactory App => app;

        public ValueTask DisposeAsync() => ((IAsyncLifetime)app).DisposeAsync();
    }

    private static PanelAppFactory Portal() => new PanelAppFactory { RealPort = true }.With("Panel:SignIn:AttemptsPerMinute", "4");

    private static HttpClient Client(PanelAppFactory app) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri(app.ServerAddress),
        };

    /// <summary>Six bad sign-ins, each with the X-Forwarded-For that <paramref name="forwardedFor"/> gives.</summary>
    private static async Task<List<HttpStatusCode>> BadSignInsAsync(PanelAppFactory app, Func<int, string> forwardedFor)
    {
        using var client = Client(app);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            client.DefaultRequestHeaders.Remove("X-Forwarded-For");
            client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor(i));
            statuses.Add((await PanelAppFactory.SignInAsync(client, "nobody@panel.test", "wrong-password")).StatusCode);
        }

        return statuses;
    }

    /// <summary>
    /// Signs the Admin in as a TLS proxy forwards it (X-Forwarded-Proto: https) and returns the sign-in cookie as set.
    /// Cookies are carried by hand: between proxy and portal the hop is plain http, where a client would keep back a
    /// Secure cookie.
    /// </summary>
    private static async Task<string> SignInThroughProxyAsync(PanelAppFactory app)
    {
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = new Uri(app.ServerAddress) };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "192.0.2.50");
        client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        using var page = await client.GetAsync("/account/login");
        var antiforgery = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        var token = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token,
                ["Email"] = PanelAppFactory.AdminEmail,
                ["Password"] = PanelAppFactory.AdminPassword,
            }),
        };
        request.Headers.Add("Cookie", antiforgery.Split(';')[0]);
        using var response = await client.SendAsync(request);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        var auth = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("GrafanaPanel.Auth=", StringComparison.Ordinal));
        // The antiforgery cookie follows the same rule as the sign-in cookie.
        Assert.Equal(auth.Contains("; secure", StringComparison.OrdinalIgnoreCase), antiforgery.Contains("; secure", StringComparison.OrdinalIgnoreCase));
        return auth;
    }

    private static string Flatten(Exception error) =>
        error is AggregateException aggregate
            ? string.Join(" | ", aggregate.Flatten().InnerExceptions.Select(Flatten))
            : error.Message + (error.InnerException is { } inner ? " | " + Flatten(inner) : "");
}
