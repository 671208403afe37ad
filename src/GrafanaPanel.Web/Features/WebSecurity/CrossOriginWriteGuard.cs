using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.WebSecurity;

/// <summary>
/// Refuses state-changing requests that another origin started. Grafana, InfluxDB and the other UIs of the stack run
/// on other ports of the same host: the same site for a browser, so the SameSite=Lax sign-in cookie is sent along with
/// a request their pages make. One middleware for every endpoint, so a new endpoint is covered without doing anything.
/// <list type="bullet">
/// <item>A POST, PUT, PATCH or DELETE (and a WebSocket handshake) whose <c>Origin</c> is not the portal's own, or, when
/// there is no <c>Origin</c>, whose <c>Sec-Fetch-Site</c> is not <c>same-origin</c>/<c>none</c>: 403.</item>
/// <item>A signed-in (cookie) POST, PUT, PATCH or DELETE that carries neither a valid antiforgery form token nor a
/// request header a cross-origin page cannot set without a CORS preflight (<see cref="HeaderName"/>, or the
/// antiforgery header that the job dashboard sends and checks itself): 403. Scripts send
/// <c>X-GrafanaPanel-Request: 1</c>.</item>
/// </list>
/// Blazor's hub (<c>/_blazor</c>, its negotiate POST and long-polling POSTs) and its circuit-closing beacon
/// (<c>/_blazor/disconnect</c>) get the origin rule only: Blazor's script sends neither header, a browser always sends
/// <c>Origin</c> with those requests, a connection is worth nothing without a circuit, which only a page the portal
/// rendered for that user can start, and the beacon needs the circuit's data-protected id.
/// </summary>
public sealed class CrossOriginWriteGuard(RequestDelegate next, IOptions<AntiforgeryOptions> antiforgery, IConfiguration configuration, ILogger<CrossOriginWriteGuard> logger)
{
    /// <summary>The header a script sends with a signed-in write (any non-empty value; <c>1</c> by convention).</summary>
    public const string HeaderName = "X-GrafanaPanel-Request";

    private readonly string? _publicOrigin = OriginOf(configuration["Panel:PublicUrl"]);

    public async Task InvokeAsync(HttpContext http)
    {
        if (Refusal(http) is { } reason)
        {
            WebSecurityLog.CrossOriginRefused(logger, http.Request.Method, http.Request.Path, OriginForLog(http.Request));
            if (Api.ApiRoutes.IsApi(http.Request))
            {
                await TypedResults.Problem(reason, statusCode: StatusCodes.Status403Forbidden, title: "Cross-origin write refused").ExecuteAsync(http);
                return;
            }

            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync(reason, http.RequestAborted);
            return;
        }

        await next(http);
    }

    /// <summary>Why the request is refused, or null when it may go on.</summary>
    private string? Refusal(HttpContext http)
    {
        var request = http.Request;
        // Before SignalR's own WebSocket middleware, so the handshake is recognised by its headers.
        var handshake = HttpMethods.IsGet(request.Method)
            && request.Headers.Upgrade.Any(u => u?.Contains("websocket", StringComparison.OrdinalIgnoreCase) == true);
        if (!handshake && !IsStateChanging(request.Method))
        {
            return null;
        }

        var own = $"{request.Scheme}://{request.Host}";
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            if (!SameOrigin(origin, request) && !(_publicOrigin is not null && string.Equals(OriginOf(origin), _publicOrigin, StringComparison.OrdinalIgnoreCase)))
            {
                return $"Refused: this {request.Method} comes from the page of another origin ({Printable(origin)}), not from the portal ({own}). " +
                    "If the portal is behind a reverse proxy, set Panel__KnownProxies to the proxy's address and have it pass the Host header " +
                    "(or set Panel__PublicUrl to the address the browser uses).";
            }
        }
        else if (request.Headers["Sec-Fetch-Site"].ToString() is { Length: > 0 } site && site is not ("same-origin" or "none"))
        {
            return $"Refused: the browser says this {request.Method} comes from a {Printable(site)} page, not from the portal ({own}).";
        }

        if (handshake || http.User.Identity?.IsAuthenticated != true
            // A personal access token is sent by a script, never by a browser on its own: no session for a page to abuse.
            || http.User.Identity.AuthenticationType == Api.AccessTokenAuthenticationHandler.SchemeName)
        {
            // Anonymous writes hold no session to abuse; the sign-in and setup forms check their antiforgery token themselves.
            return null;
        }

        if (request.Headers[HeaderName].ToString().Length > 0
            || (antiforgery.Value.HeaderName is { } tokenHeader && request.Headers[tokenHeader].ToString().Length > 0)
            || http.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: true }
            || IsBlazorCircuitEndpoint(http.GetEndpoint()))
        {
            return null;
        }

        return $"Refused: a signed-in {request.Method} needs the form's antiforgery token or the header \"{HeaderName}: 1\". " +
            $"A script sends the header, e.g. curl -H '{HeaderName}: 1' …; a page of another origin cannot.";
    }

    /// <summary>
    /// Blazor's hub (negotiate, long polling) and the beacon that ends a circuit when its tab closes: posted by Blazor's
    /// own script, which adds no header; each needs the circuit's connection or its data-protected id to do anything.
    /// </summary>
    public static bool IsBlazorCircuitEndpoint(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<HubMetadata>() is not null
        || (endpoint is RouteEndpoint route && route.RoutePattern.RawText?.TrimEnd('/').EndsWith("_blazor/disconnect", StringComparison.Ordinal) == true);

    public static bool IsStateChanging(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    /// <summary>Scheme, host and port of <paramref name="origin"/> equal the request's own (as forwarded by a known proxy).</summary>
    private static bool SameOrigin(string origin, HttpRequest request)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !request.Host.HasValue)
        {
            return false;
        }

        var ownPort = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        return string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(uri.Host, request.Host.Host, StringComparison.OrdinalIgnoreCase)
            && uri.Port == ownPort;
    }

    /// <summary><c>scheme://host:port</c> of an absolute http(s) URL, or null.</summary>
    public static string? OriginOf(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? $"{uri.Scheme}://{uri.Host}:{uri.Port}"
            : null;

    private static string OriginForLog(HttpRequest request) =>
        Printable(request.Headers.Origin.ToString() is { Length: > 0 } origin ? origin : $"Sec-Fetch-Site {request.Headers["Sec-Fetch-Site"]}");

    private static string Printable(string value) =>
        new(value.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
