using System.Net;

namespace GrafanaPanel.Web.Features.WebSecurity;

/// <summary>
/// HTTPS and reverse-proxy settings, read once at start-up from configuration. HTTPS is on when any address the portal
/// binds is https (<c>ASPNETCORE_URLS</c>/<c>--urls</c>, <c>ASPNETCORE_HTTPS_PORTS</c>, <c>Kestrel__Endpoints__*__Url</c>);
/// its certificate is Kestrel's own setting (<c>Kestrel__Certificates__Default__Path</c>/<c>__Password</c>/<c>__KeyPath</c>)
/// or, when that is empty, a self-signed one kept in <c>Panel__Https__CertificateDirectory</c>.
/// </summary>
public sealed class WebSecuritySettings
{
    public const string KnownProxiesKey = "Panel:KnownProxies";
    public const string KnownNetworksKey = "Panel:KnownNetworks";
    public const string CertificateDirectoryKey = "Panel:Https:CertificateDirectory";
    public const string HstsKey = "Panel:Https:Hsts";
    public const string HostNamesKey = "Panel:Https:HostNames";

    private WebSecuritySettings()
    {
    }

    /// <summary>Some address the portal binds is https.</summary>
    public bool ServesHttps { get; private init; }

    /// <summary>Kestrel has a certificate of its own settings; nothing is generated.</summary>
    public string? ConfiguredCertificate { get; private init; }

    /// <summary>Where the self-signed certificate is kept (when HTTPS is on and no certificate is configured).</summary>
    public string? CertificateDirectory { get; private init; }

    /// <summary>Names the self-signed certificate is issued for, besides localhost and the loopback addresses.</summary>
    public IReadOnlyList<string> HostNames { get; private init; } = [];

    public bool Hsts { get; private init; } = true;

    public IReadOnlyList<IPAddress> KnownProxies { get; private init; } = [];

    public IReadOnlyList<IPNetwork> KnownNetworks { get; private init; } = [];

    /// <summary>Forwarded headers are honoured (from the known proxies and networks only).</summary>
    public bool TrustsProxies => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    /// <summary>A self-signed certificate is generated or reused.</summary>
    public bool UsesSelfSigned => ServesHttps && ConfiguredCertificate is null;

    /// <summary>What is wrong with the settings, each saying what to set; empty when they are usable.</summary>
    public IReadOnlyList<string> Errors { get; private init; } = [];

    public static WebSecuritySettings Read(IConfiguration configuration)
    {
        var errors = new List<string>();
        var proxies = new List<IPAddress>();
        foreach (var item in ListOf(configuration, KnownProxiesKey))
        {
            if (IPAddress.TryParse(item, out var address))
            {
                proxies.Add(address);
            }
            else
            {
                errors.Add($"Panel__KnownProxies: \"{item}\" is not an IP address. List the reverse proxy's addresses, comma-separated (e.g. Panel__KnownProxies=172.20.0.10), or use Panel__KnownNetworks for a range.");
            }
        }

        var networks = new List<IPNetwork>();
        foreach (var item in ListOf(configuration, KnownNetworksKey))
        {
            if (IPNetwork.TryParse(item, out var network))
            {
                networks.Add(network);
            }
            else
            {
                errors.Add($"Panel__KnownNetworks: \"{item}\" is not a network in CIDR notation with its host bits zero (e.g. Panel__KnownNetworks=172.20.0.0/16).");
            }
        }

        if (configuration.GetValue<bool>("FORWARDEDHEADERS_ENABLED"))
        {
            errors.Add("ASPNETCORE_FORWARDEDHEADERS_ENABLED makes the portal believe X-Forwarded-For from any address, so anyone could pick the address the sign-in rate limit counts. Remove it and set Panel__KnownProxies (or Panel__KnownNetworks) to the reverse proxy's address.");
        }

        var hsts = true;
        if (configuration[HstsKey] is { Length: > 0 } hstsValue && !bool.TryParse(hstsValue, out hsts))
        {
            errors.Add($"Panel__Https__Hsts: \"{hstsValue}\" is not true or false.");
            hsts = true;
        }

        var https = BoundAddresses(configuration).Any(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
            || configuration["https_ports"] is { Length: > 0 };
        var configured = configuration["Kestrel:Certificates:Default:Path"] is { Length: > 0 } path ? path
            : configuration["Kestrel:Certificates:Default:Subject"] is { Length: > 0 } subject ? $"store subject {subject}"
            : null;
        var directory = configuration[CertificateDirectoryKey] is { Length: > 0 } dir ? dir : null;
        if (https && configured is null && directory is null)
        {
            errors.Add("The portal binds an https address but has no certificate. Set Kestrel__Certificates__Default__Path (and __Password, or __KeyPath for a PEM key) " +
                "to use your own, or Panel__Https__CertificateDirectory to a directory that survives restarts (the portal's volume) for a self-signed one.");
        }
        else if (directory is not null && !Path.IsPathFullyQualified(directory))
        {
            errors.Add($"Panel__Https__CertificateDirectory: \"{directory}\" is not an absolute path.");
        }

        return new WebSecuritySettings
        {
            ServesHttps = https,
            ConfiguredCertificate = configured,
            CertificateDirectory = directory,
            HostNames = ListOf(configuration, HostNamesKey)
                .Concat(new[] { configuration["Stack:PublicHost"], HostOf(configuration["Panel:PublicUrl"]) }.OfType<string>())
                .Where(n => n.Length > 0)
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .ToList(),
            Hsts = hsts,
            KnownProxies = proxies,
            KnownNetworks = networks,
            Errors = errors,
        };
    }

    /// <summary>Every URL the host may bind: <c>urls</c> and the Kestrel endpoints' <c>Url</c>s.</summary>
    private static IEnumerable<string> BoundAddresses(IConfiguration configuration) =>
        (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());

    /// <summary>A list setting, as one comma/space-separated value (handy in compose) or as indexed children (<c>__0</c>, <c>__1</c>).</summary>
    private static IEnumerable<string> ListOf(IConfiguration configuration, string key)
    {
        var section = configuration.GetSection(key);
        var values = section.Value is { } value ? [value] : section.GetChildren().Select(c => c.Value).OfType<string>();
        return values.SelectMany(v => v.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static string? HostOf(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host : null;
}
