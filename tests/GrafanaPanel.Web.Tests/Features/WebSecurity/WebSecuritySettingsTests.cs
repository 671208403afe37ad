using System.Net;
using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.Extensions.Configuration;

namespace GrafanaPanel.Web.Tests.Features.WebSecurity;

public sealed class WebSecuritySettingsTests
{
    private static WebSecuritySettings Read(params (string Key, string Value)[] settings) =>
        WebSecuritySettings.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Theory]
    [InlineData("urls", "http://+:8585;https://+:8443")]
    [InlineData("https_ports", "8443")]
    [InlineData("Kestrel:Endpoints:Secure:Url", "https://0.0.0.0:8443")]
    public void Https_is_on_when_any_bound_address_is_https(string key, string value)
    {
        var settings = Read((key, value), (WebSecuritySettings.CertificateDirectoryKey, "/var/lib/grafana-panel/https"));

        Assert.True(settings.ServesHttps);
        Assert.True(settings.UsesSelfSigned);
        Assert.Empty(settings.Errors);
    }

    [Fact]
    public void Plain_http_is_not_https_and_needs_no_certificate()
    {
        var settings = Read(("urls", "http://+:8585"), ("http_ports", "8585"));

        Assert.False(settings.ServesHttps);
        Assert.False(settings.UsesSelfSigned);
        Assert.Empty(settings.Errors);
    }

    [Fact]
    public void Kestrels_own_certificate_setting_is_used_instead_of_a_self_signed_one()
    {
        var settings = Read(("https_ports", "8443"), ("Kestrel:Certificates:Default:Path", "/tls/portal.pfx"));

        Assert.Equal("/tls/portal.pfx", settings.ConfiguredCertificate);
        Assert.False(settings.UsesSelfSigned);
        Assert.Empty(settings.Errors);
    }

    [Fact]
    public void Https_without_a_certificate_or_a_directory_names_both_settings()
    {
        var error = Assert.Single(Read(("https_ports", "8443")).Errors);

        Assert.Contains("Kestrel__Certificates__Default__Path", error);
        Assert.Contains("Panel__Https__CertificateDirectory", error);
    }

    [Fact]
    public void A_relative_certificate_directory_is_refused()
    {
        Assert.Contains("not an absolute path", Assert.Single(Read(("https_ports", "8443"), (WebSecuritySettings.CertificateDirectoryKey, "certs")).Errors));
    }

    [Fact]
    public void Known_proxies_and_networks_are_read_from_one_list_or_from_indexed_entries()
    {
        var settings = Read(
            (WebSecuritySettings.KnownProxiesKey, "172.20.0.10, ::1;10.0.0.2"),
            (WebSecuritySettings.KnownNetworksKey + ":0", "172.20.0.0/16"),
            (WebSecuritySettings.KnownNetworksKey + ":1", "fd00::/8"));

        Assert.Equal([IPAddress.Parse("172.20.0.10"), IPAddress.IPv6Loopback, IPAddress.Parse("10.0.0.2")], settings.KnownProxies);
        Assert.Equal([IPNetwork.Parse("172.20.0.0/16"), IPNetwork.Parse("fd00::/8")], settings.KnownNetworks);
        Assert.True(settings.TrustsProxies);
        Assert.Empty(settings.Errors);
    }

    [Fact]
    public void Without_proxy_settings_no_forwarded_header_is_trusted()
    {
        Assert.False(Read().TrustsProxies);
    }

    [Fact]
    public void Each_bad_proxy_entry_is_named_in_its_own_error()
    {
        var errors = Read((WebSecuritySettings.KnownProxiesKey, "172.20.0.10,proxy.local"), (WebSecuritySettings.KnownNetworksKey, "172.20.0.0/40")).Errors;

        Assert.Equal(2, errors.Count);
        Assert.Contains("Panel__KnownProxies: \"proxy.local\" is not an IP address", errors[0]);
        Assert.Contains("Panel__KnownNetworks: \"172.20.0.0/40\"", errors[1]);
    }

    [Fact]
    public void Hsts_can_be_turned_off_and_a_bad_value_is_named()
    {
        Assert.False(Read((WebSecuritySettings.HstsKey, "false")).Hsts);
        Assert.True(Read().Hsts);
        Assert.Contains("Panel__Https__Hsts", Assert.Single(Read((WebSecuritySettings.HstsKey, "sometimes")).Errors));
    }

    [Fact]
    public void The_certificate_names_come_from_the_public_host_the_public_url_and_the_extra_names()
    {
        var settings = Read(("Stack:PublicHost", "192.168.1.20"), ("Panel:PublicUrl", "https://lab.example:8443"), (WebSecuritySettings.HostNamesKey, "panel.lab, lab.example"));

        Assert.Equal(["panel.lab", "lab.example", "192.168.1.20"], settings.HostNames);
    }
}
