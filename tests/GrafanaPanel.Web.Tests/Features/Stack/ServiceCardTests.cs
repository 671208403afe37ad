using System.Collections.Immutable;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Stack;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Stack;

/// <summary>A service card's port links follow where the port is published (docs/security.md, "Published by need").</summary>
public sealed class ServiceCardTests : PanelTestContext
{
    private static ServiceView View(params ContainerRecord[] containers) =>
        new(containers[0].Service!, "data", [.. containers], null, null, ImmutableArray<VolumeView>.Empty, ImmutableArray<string>.Empty);

    private Bunit.IRenderedComponent<ServiceCard> RenderCard(ServiceView view, string viewerHost) =>
        Render<ServiceCard>(p => p
            .Add(c => c.Service, view)
            .Add(c => c.PublicHost, "lab.example")
            .Add(c => c.ViewerHost, viewerHost));

    [Fact]
    public void A_port_published_on_every_address_links_to_the_public_host_for_any_viewer()
    {
        var card = RenderCard(View(Container("grafana", publicPort: 3000, hostIp: "0.0.0.0")), viewerHost: "lab.example");

        var link = card.Find("[data-test=port-link]");
        Assert.Equal("http://lab.example:3000/", link.GetAttribute("href"));
        Assert.Equal("false", link.GetAttribute("data-host-only"));
        Assert.Empty(card.FindAll("[data-test=port-host-only]"));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void A_port_published_on_a_loopback_address_is_no_link_for_a_browser_on_another_machine(string hostIp)
    {
        var card = RenderCard(View(Container("loki", publicPort: 3100, hostIp: hostIp)), viewerHost: "lab.example");

        Assert.Empty(card.FindAll("[data-test=port-link]"));
        var note = card.Find("[data-test=port-host-only]");
        Assert.Equal("3100 (host only)", note.TextContent.Trim());
        Assert.Contains("LAB_BIND_ADDRESS", note.GetAttribute("title"));
    }

    [Theory]
    [InlineData("localhost", "http://localhost:3100/")]
    [InlineData("127.0.0.1", "http://127.0.0.1:3100/")]
    [InlineData("[::1]", "http://[::1]:3100/")]
    public void A_port_published_on_a_loopback_address_links_to_the_viewer_s_own_host_when_the_browser_is_on_the_host(string viewerHost, string href)
    {
        var card = RenderCard(View(Container("loki", publicPort: 3100, hostIp: "127.0.0.1")), viewerHost);

        var link = card.Find("[data-test=port-link]");
        Assert.Equal(href, link.GetAttribute("href"));
        Assert.Equal("true", link.GetAttribute("data-host-only"));
    }

    [Fact]
    public void A_port_opened_to_the_room_by_a_specific_address_links_to_the_public_host()
    {
        var card = RenderCard(View(Container("loki", publicPort: 3100, hostIp: "192.0.2.10")), viewerHost: "lab.example");

        Assert.Equal("http://lab.example:3100/", card.Find("[data-test=port-link]").GetAttribute("href"));
    }
}
