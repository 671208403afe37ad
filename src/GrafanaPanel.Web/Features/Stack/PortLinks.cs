using System.Net;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>
/// Where the stack pages may link a published port. A port bound to a loopback address (the lab ports, unless
/// LAB_BIND_ADDRESS opens them) answers on the host only: it is a link only for a browser on the host itself,
/// which is one that reaches the portal through a loopback address too.
/// </summary>
public static class PortLinks
{
    /// <summary>True when the port is published on a loopback address such as 127.0.0.1 or ::1.</summary>
    public static bool IsHostOnly(PortRecord port) =>
        port.HostIp is { } address && IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip);

    /// <summary>True for "localhost", 127.0.0.0/8 and ::1 (with or without brackets).</summary>
    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
        (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>
    /// The URL to open the port at, or null when the viewer cannot reach it: a host-only port seen from another
    /// machine. <paramref name="viewerHost"/> is the host the viewer's browser reached the portal at.
    /// </summary>
    public static string? Href(PortRecord port, string publicHost, string viewerHost)
    {
        if (port.PublicPort is not { } published)
        {
            return null;
        }

        if (!IsHostOnly(port))
        {
            return $"http://{publicHost}:{published}/";
        }

        return IsLoopbackHost(viewerHost) ? $"http://{viewerHost}:{published}/" : null;
    }
}
