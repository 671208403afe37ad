using System.Net;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>HTTP clients for a portal running as a process of its own.</summary>
public static class PortalClients
{
    /// <summary>
    /// Signed in as the first Admin with the sign-in cookie, sending the header a script sends with its writes
    /// (<c>X-GrafanaPanel-Request</c>), redirects not followed.
    /// </summary>
    public static async Task<HttpClient> SignedInAsync(PortalProcess portal)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri(portal.Address),
        };
        var signIn = await PanelAppFactory.SignInAsync(client, PanelAppFactory.AdminEmail, PanelAppFactory.AdminPassword);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        client.DefaultRequestHeaders.Add(GrafanaPanel.Web.Features.WebSecurity.CrossOriginWriteGuard.HeaderName, "1");
        return client;
    }
}
