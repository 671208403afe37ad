using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>
/// The portal on a real port of localhost, and requests as the browser sends them from Grafana's page on port 3000 of
/// the same host (same site: the SameSite=Lax sign-in cookie goes along).
/// </summary>
public sealed class CrossOriginTests : IAsyncLifetime
{
    private const string Grafana = "http://localhost:3000";

    /// <summary>The only writes let through without the header or a token (still only from the portal's own origin).</summary>
    private static readonly HashSet<string> BlazorCircuitRoutes = ["/_blazor", "/_blazor/negotiate", "/_blazor/disconnect/"];

    private readonly PanelAppFactory _app = new() { RealPort = true };
    private readonly CookieContainer _cookies = new();

    private string Portal => $"http://localhost:{new Uri(_app.ServerAddress).Port}";

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task A_reset_asked_for_from_another_origin_is_refused_and_the_portals_own_origin_with_the_header_is_let_through()
    {
        using var admin = await SignedInAsync();
        // A baseline that does not exist: a request that gets through is refused by the endpoint, and nothing is reset.
        var body = new { baseline = "no-such-baseline", services = new[] { "app" } };

        using var crossOrigin = await PostJsonAsync(admin, "/api/resets", body, Grafana, marked: true);
        Assert.Equal(HttpStatusCode.Forbidden, crossOrigin.StatusCode);
        Assert.Contains($"another origin ({Grafana})", await crossOrigin.Content.ReadAsStringAsync());

        using var unmarked = await PostJsonAsync(admin, "/api/resets", body, origin: null, marked: false);
        Assert.Equal(HttpStatusCode.Forbidden, unmarked.StatusCode);
        Assert.Contains(CrossOriginWriteGuard.HeaderName, await unmarked.Content.ReadAsStringAsync());

        using var sameSiteFetch = await PostJsonAsync(admin, "/api/resets", body, origin: null, marked: true, fetchSite: "same-site");
        Assert.Equal(HttpStatusCode.Forbidden, sameSiteFetch.StatusCode);
        Assert.Equal(0, await ResetRunsAsync());

        using var own = await PostJsonAsync(admin, "/api/resets", body, Portal, marked: true);
        Assert.Equal(HttpStatusCode.BadRequest, own.StatusCode);
        Assert.Contains("no baseline named", await own.Content.ReadAsStringAsync());

        using var script = await PostJsonAsync(admin, "/api/resets", body, origin: null, marked: true);
        Assert.Equal(HttpStatusCode.BadRequest, script.StatusCode);
    }

    [Fact]
    public async Task Signing_in_from_another_origin_is_refused_even_with_a_valid_form_token()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = Client();

        using var refused = await SignInAsync(client, Grafana);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain(refused.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith("GrafanaPanel.Auth=", StringComparison.Ordinal));

        using var accepted = await SignInAsync(client, Portal);
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal("/", accepted.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Signing_out_through_the_portals_own_form_works()
    {
        using var admin = await SignedInAsync();
        var token = await PanelAppFactory.ReadAntiforgeryTokenAsync(admin, "/");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/logout")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }),
        };
        request.Headers.Add("Origin", Portal);

        using var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/login", response.Headers.Location?.OriginalString);
        // Signed out: a script's request is answered 401 now.
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/api/stack")).StatusCode);
    }

    [Fact]
    public async Task The_job_dashboards_own_posts_pass_the_guard_with_the_header_its_script_sends()
    {
        using var admin = await SignedInAsync();
        var page = await admin.GetStringAsync("/jobs/recurring");
        var header = System.Text.RegularExpressions.Regex.Match(page, "<meta name=\"csrf-header\" content=\"([^\"]+)\"").Groups[1].Value;
        var token = System.Text.RegularExpressions.Regex.Match(page, "<meta name=\"csrf-token\" content=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEqual("", header);

        HttpRequestMessage Trigger(bool withToken)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/jobs/recurring/trigger")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "no-such-job" }),
            };
            request.Headers.Add("Origin", Portal);
            request.Headers.Add("X-Requested-With", "XMLHttpRequest");
            if (withToken)
            {
                request.Headers.Add(header, token);
            }

            return request;
        }

        using (var plain = await admin.SendAsync(Trigger(withToken: false)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
            Assert.Contains(CrossOriginWriteGuard.HeaderName, await plain.Content.ReadAsStringAsync());
        }

        // Past the guard, the dashboard itself answers: it is read-only (no job is run or requeued from it), so 401.
        using var dashboard = await admin.SendAsync(Trigger(withToken: true));
        var body = await dashboard.Content.ReadAsStringAsync();
        Assert.DoesNotContain(CrossOriginWriteGuard.HeaderName, body);
        Assert.True(dashboard.StatusCode == HttpStatusCode.Unauthorized, $"The dashboard's own POST answered {(int)dashboard.StatusCode}: {body}");
    }

    [Fact]
    public async Task Every_endpoint_that_takes_a_write_refuses_it_from_another_origin_and_unmarked()
    {
        using var admin = await SignedInAsync();
        var checkedWrites = 0;
        var hubWrites = 0;
        foreach (var (endpoint, route, method) in Writes())
        {
            using var crossOrigin = await SendAsync(admin, method, route, Grafana, marked: true);
            Assert.True(crossOrigin.StatusCode == HttpStatusCode.Forbidden && (await crossOrigin.Content.ReadAsStringAsync()).Contains("another origin"),
                $"{method} {route} from another origin answered {(int)crossOrigin.StatusCode}.");

            using var unmarked = await SendAsync(admin, method, route, Portal, marked: false);
            var text = await unmarked.Content.ReadAsStringAsync();
            var refusedUnmarked = unmarked.StatusCode == HttpStatusCode.Forbidden && text.Contains(CrossOriginWriteGuard.HeaderName);
            if (BlazorCircuitRoutes.Contains(route))
            {
                // Blazor's hub and circuit beacon: its script sends neither header; the origin rule above guards them.
                Assert.True(CrossOriginWriteGuard.IsBlazorCircuitEndpoint(endpoint), $"{route} is not recognised as Blazor's.");
                Assert.False(refusedUnmarked, $"{method} {route} (Blazor's) was refused from the portal's own page: {text}");
                hubWrites++;
            }
            else
            {
                Assert.True(refusedUnmarked, $"{method} {route} without the header or a token answered {(int)unmarked.StatusCode}: {text}");
            }

            checkedWrites++;
        }

        // The import, the reset API, the account forms, the pages' form posts, the job dashboard and Blazor's hub at least.
        Assert.True(checkedWrites >= 8, $"only {checkedWrites} writes were checked; the enumeration is broken.");
        Assert.True(hubWrites >= 3, "Blazor's hub and beacon were not among the endpoints.");
        Assert.Contains(Writes(), w => w.Route == "/backups/import");
        Assert.Contains(Writes(), w => w.Route == "/api/resets");
    }

    [Fact]
    public async Task A_websocket_to_blazors_hub_from_another_origin_is_refused()
    {
        // Signed in: the handshake carries the sign-in cookie, as the browser would send it from Grafana's page.
        using var admin = await SignedInAsync();
        var cookies = _cookies;

        using var socket = new ClientWebSocket();
        socket.Options.Cookies = cookies;
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Origin", Grafana);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://localhost:{new Uri(Portal).Port}/_blazor?id=x"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);

        // From the portal's own page the handshake gets past the guard to SignalR (which knows no connection "x").
        using var own = new ClientWebSocket();
        own.Options.Cookies = cookies;
        own.Options.CollectHttpResponseDetails = true;
        own.Options.SetRequestHeader("Origin", Portal);
        await Assert.ThrowsAsync<WebSocketException>(() => own.ConnectAsync(new Uri($"ws://localhost:{new Uri(Portal).Port}/_blazor?id=x"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, own.HttpStatusCode);
    }

    private HttpClient Client() =>
        new(new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = new Uri(Portal) };

    private async Task<HttpClient> SignedInAsync()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        var client = Client();
        var response = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        return client;
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string origin)
    {
        var token = await PanelAppFactory.ReadAntiforgeryTokenAsync(client, "/account/login");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token,
                ["Email"] = PanelAppFactory.AdminEmail,
                ["Password"] = PanelAppFactory.AdminPassword,
            }),
        };
        request.Headers.Add("Origin", origin);
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, object body, string? origin, bool marked, string? fetchSite = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        Mark(request, origin, marked);
        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string route, string origin, bool marked)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = new StringContent("") };
        Mark(request, origin, marked);
        return await client.SendAsync(request);
    }

    private static void Mark(HttpRequestMessage request, string? origin, bool marked)
    {
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (marked)
        {
            request.Headers.Add(CrossOriginWriteGuard.HeaderName, "1");
        }
    }

    private async Task<int> ResetRunsAsync()
    {
        using var scope = _app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<GrafanaPanel.Web.Data.PanelDbContext>().ResetRuns.CountAsync();
    }

    /// <summary>Every routed endpoint and each method other than GET/HEAD it takes (an endpoint that names none takes all).</summary>
    private IEnumerable<(Endpoint Endpoint, string Route, string Method)> Writes() =>
        _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["POST", "PUT", "PATCH", "DELETE"])
                .Where(CrossOriginWriteGuard.IsStateChanging)
                .Where(m => m != HttpMethods.Options)
                .Select(m => ((Endpoint)e, Concrete("/" + (e.RoutePattern.RawText ?? "").TrimStart('/')), m)))
            .DistinctBy(w => (w.Item2, w.m));

    /// <summary>Fills route parameters with harmless sample values.</summary>
    private static string Concrete(string route) =>
        System.Text.RegularExpressions.Regex.Replace(route, "\\{\\*?\\*?([^}:=?]+)[^}]*\\}", "sample");
}
