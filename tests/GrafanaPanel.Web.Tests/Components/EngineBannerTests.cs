using GrafanaPanel.Web.Components.Layout;
using GrafanaPanel.Web.Docker;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.Web.Tests.Components;

public sealed class EngineBannerTests : PanelTestContext
{
    [Fact]
    public async Task Shows_the_engine_version_when_connected()
    {
        await Services.GetRequiredService<EngineStatus>().RefreshAsync(CancellationToken.None);

        var banner = Render<EngineBanner>();

        var state = banner.Find("[data-test=engine-state]");
        Assert.Equal("true", state.GetAttribute("data-connected"));
        Assert.Contains("Docker 20.10.24", state.TextContent);
        Assert.Contains("API 1.41", state.TextContent);
    }

    [Fact]
    public async Task Names_the_endpoint_and_the_error_when_unreachable_and_updates_without_a_reload()
    {
        Engine.Info = null;
        Engine.Endpoint = "tcp://docker.invalid:2375";
        var status = Services.GetRequiredService<EngineStatus>();
        await status.RefreshAsync(CancellationToken.None);

        var banner = Render<EngineBanner>();

        var alert = banner.Find("[data-test=engine-state]");
        Assert.Equal("false", alert.GetAttribute("data-connected"));
        Assert.Contains("tcp://docker.invalid:2375", alert.TextContent);
        Assert.Contains("connection refused", alert.TextContent);

        Engine.Info = new EngineInfo("27.0.1", "1.46", "linux/amd64");
        await status.RefreshAsync(CancellationToken.None);

        banner.WaitForAssertion(() =>
            Assert.Contains("Docker 27.0.1", banner.Find("[data-test=engine-state]").TextContent));
    }
}
