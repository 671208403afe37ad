using System.Net;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Hosting;

public sealed class EndpointSecurityTests : IAsyncLifetime
{
    // The only endpoints anyone may reach without signing in. A new anonymous endpoint fails the test below.
    private static readonly HashSet<string> AnonymousRoutes =
    [
        "/healthz", "/readyz", "/metrics", "/account/login", "/account/signin", "/account/setup", "/error",
        // The API reference page's scripts and icon (the Scalar package's own, served by the portal rather than a CDN); the page
        // and the OpenAPI document they read need a sign-in.
        "/api/reference/scalar.js", "/api/reference/scalar.aspnetcore.js", "/api/reference/favicon.svg",
    ];

    private readonly PanelAppFactory _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task Every_endpoint_refuses_an_anonymous_request()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        using var client = _app.CreateAnonymousClient();
        var checkedRoutes = 0;

        foreach (var (endpoint, route) in RoutedEndpoints())
        {
            if (IsStaticAsset(endpoint) || AnonymousRoutes.Contains(route))
            {
                continue;
            }

            foreach (var method in Methods(endpoint))
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), Concrete(route));
                request.Headers.Accept.ParseAdd("text/html");
                using var response = await client.SendAsync(request);

                var refused = response.StatusCode == HttpStatusCode.Unauthorized
                    || (response.StatusCode == HttpStatusCode.Redirect
                        && response.Headers.Location!.OriginalString.Contains("/account/login"));
                Assert.True(refused, $"{method} {route} answered {(int)response.StatusCode} to an anonymous request.");
                checkedRoutes++;
            }
        }

        Assert.True(checkedRoutes >= 5, $"only {checkedRoutes} endpoints were checked; the enumeration is broken.");
    }

    [Fact]
    public void Only_the_known_endpoints_allow_anonymous_access()
    {
        var anonymous = RoutedEndpoints()
            .Where(e => !IsStaticAsset(e.Endpoint) && e.Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Select(e => e.Route)
            .ToHashSet();

        Assert.True(anonymous.IsSubsetOf(AnonymousRoutes), "anonymous routes nobody listed: " + string.Join(", ", anonymous.Except(AnonymousRoutes)));
    }

    [Fact]
    public async Task The_job_dashboard_sends_anonymous_to_sign_in_refuses_viewers_and_serves_admins()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        await CreateUserAsync("viewer@panel.test", "Viewer-Password-1", PanelRoles.Viewer);

        using var anonymous = _app.CreateAnonymousClient();
        var anonymousResponse = await anonymous.GetAsync("/jobs");
        Assert.Equal(HttpStatusCode.Redirect, anonymousResponse.StatusCode);
        Assert.Contains("/account/login", anonymousResponse.Headers.Location!.OriginalString);

        using var viewer = await _app.CreateSignedInClientAsync("viewer@panel.test", "Viewer-Password-1");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/jobs")).StatusCode);

        using var admin = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        var adminResponse = await admin.GetAsync("/jobs");
        Assert.Equal(HttpStatusCode.OK, adminResponse.StatusCode);
        Assert.Contains("GrafanaPanel jobs", await adminResponse.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_admin_page_is_refused_to_a_viewer()
    {
        await _app.WaitUntilDatabaseReadyAsync();
        await CreateUserAsync("viewer2@panel.test", "Viewer-Password-1", PanelRoles.Viewer);
        using var viewer = await _app.CreateSignedInClientAsync("viewer2@panel.test", "Viewer-Password-1");

        var request = new HttpRequestMessage(HttpMethod.Get, "/admin/users");
        request.Headers.Accept.ParseAdd("text/html");
        var response = await viewer.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/account/access-denied", response.Headers.Location!.OriginalString);
    }

    private async Task CreateUserAsync(string email, string password, string role)
    {
        using var scope = _app.Services.CreateScope();
        await TestAccounts.CreateAsync(scope.ServiceProvider, email, role, password);
    }

    private IEnumerable<(RouteEndpoint Endpoint, string Route)> RoutedEndpoints() =>
        _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => (e, "/" + (e.RoutePattern.RawText ?? "").TrimStart('/')))
            .DistinctBy(e => (e.Item2, string.Join(",", Methods(e.e))));

    private static bool IsStaticAsset(Endpoint endpoint) =>
        endpoint.Metadata.Any(m => m.GetType().Name.Contains("StaticAsset", StringComparison.Ordinal))
        || endpoint.DisplayName?.Contains("static asset", StringComparison.OrdinalIgnoreCase) == true
        || endpoint.DisplayName?.Contains("_framework", StringComparison.OrdinalIgnoreCase) == true;

    private static IEnumerable<string> Methods(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Where(m => m != "OPTIONS").DefaultIfEmpty("GET") ?? ["GET"];

    /// <summary>Fills route parameters with harmless sample values.</summary>
    private static string Concrete(string route) =>
        System.Text.RegularExpressions.Regex.Replace(route, "\\{\\*?\\*?([^}:=?]+)[^}]*\\}", "sample");
}
