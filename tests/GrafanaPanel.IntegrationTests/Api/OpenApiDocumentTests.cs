using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Api;

/// <summary>The OpenAPI document against the route table, and the reference page.</summary>
public sealed partial class OpenApiDocumentTests : IAsyncLifetime
{
    private readonly ApiPortal _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task The_document_lists_every_api_v1_route_of_the_route_table_and_nothing_else()
    {
        using var admin = await _app.CreateSignedInClientAsync(PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        var response = await admin.GetAsync(ApiExtensions.OpenApiPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString());
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());

        var documented = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                documented.Add($"{operation.Name.ToUpperInvariant()} {path.Name.TrimEnd('/')}");
                // Every operation says what it answers.
                Assert.True(operation.Value.TryGetProperty("responses", out var responses) && responses.EnumerateObject().Any(), $"{operation.Name} {path.Name} lists no responses");
            }
        }

        var routed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (!pattern.StartsWith("/api/v1/", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
            {
                routed.Add($"{method} {Constraint().Replace(pattern, "{$1}").TrimEnd('/')}");
            }
        }

        Assert.NotEmpty(routed);
        Assert.Equal(routed, documented);
    }

    [Fact]
    public async Task The_reference_page_is_served_to_signed_in_users_only()
    {
        using var viewer = await _app.CreateSignedInClientAsync(
            (await TestAccounts.CreateAsync(_app.Services, "reader@panel.test", Web.Features.Accounts.PanelRoles.Viewer)).Email!, TestAccounts.Password);
        var page = await viewer.GetAsync(ApiExtensions.ReferencePath + "/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains(ApiExtensions.OpenApiPath.TrimStart('/'), html);
        // The page's script is served by the portal itself (no CDN: the lab may be offline).
        var script = Regex.Match(html, "<script[^>]+src=\"([^\"]+)\"").Groups[1].Value;
        Assert.DoesNotContain("://", script);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri(new Uri(viewer.BaseAddress!, ApiExtensions.ReferencePath + "/"), script))).StatusCode);

        using var anonymous = _app.CreateAnonymousClient();
        var refused = await anonymous.GetAsync(ApiExtensions.ReferencePath);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Contains("/account/login", refused.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync(ApiExtensions.OpenApiPath)).StatusCode);
    }

    [GeneratedRegex(@"\{([a-zA-Z]+)(:[^}]*)?\}")]
    private static partial Regex Constraint();
}
