using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.Web.Tests.Features.Accounts;

public sealed class SetupPageTests : PanelTestContext
{
    private readonly FakeSetupLinkCheck _links = new();

    public SetupPageTests() => Services.AddSingleton<ISetupLinkCheck>(_links);

    [Fact]
    public void A_valid_link_shows_the_form_with_the_token()
    {
        _links.State = SetupLinkState.Valid;
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/setup?token=abc123");

        var page = Render<SetupPage>();

        Assert.Equal("abc123", page.Find("input[name=Token]").GetAttribute("value"));
        Assert.Empty(page.FindAll("[data-test=setup-state]"));
        Assert.Equal("abc123", _links.Asked);
    }

    [Theory]
    [InlineData(SetupLinkState.Expired, "has expired")]
    [InlineData(SetupLinkState.Unknown, "not valid")]
    public void An_expired_or_unknown_link_says_how_to_get_a_new_one_on_the_host(SetupLinkState state, string says)
    {
        _links.State = state;
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/setup?token=abc123");

        var page = Render<SetupPage>();

        var message = page.Find("[data-test=setup-state]").TextContent;
        Assert.Contains(says, message);
        Assert.Contains("setup-link", message);
        Assert.Contains("docker compose exec panel", message);
        Assert.Empty(page.FindAll("form"));
    }

    [Theory]
    [InlineData(SetupLinkState.Used, "used already")]
    [InlineData(SetupLinkState.AdminExists, "An Admin exists already")]
    public void A_used_link_or_an_existing_admin_sends_the_visitor_to_sign_in(SetupLinkState state, string says)
    {
        _links.State = state;
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/setup?token=abc123");

        var page = Render<SetupPage>();

        Assert.Contains(says, page.Find("[data-test=setup-state]").TextContent);
        Assert.Equal("account/login", page.Find("a").GetAttribute("href"));
        Assert.Empty(page.FindAll("form"));
    }

    [Fact]
    public void The_state_from_a_refused_post_is_shown_without_asking_again()
    {
        _links.State = SetupLinkState.Valid;
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/setup?state=Expired");

        var page = Render<SetupPage>();

        Assert.Equal("Expired", page.Find("[data-test=setup-state]").GetAttribute("data-state"));
        Assert.Null(_links.Asked);
    }

    private sealed class FakeSetupLinkCheck : ISetupLinkCheck
    {
        public SetupLinkState State { get; set; }

        public string? Asked { get; private set; }

        public Task<SetupLinkState> CheckAsync(string? token, CancellationToken ct)
        {
            Asked = token;
            return Task.FromResult(State);
        }
    }
}
