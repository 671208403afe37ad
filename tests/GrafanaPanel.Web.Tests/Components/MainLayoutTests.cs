using GrafanaPanel.Web.Components.Layout;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Tests.Components;

public sealed class MainLayoutTests : PanelTestContext
{
    private readonly FakePreferences _preferences = new();

    public MainLayoutTests()
    {
        Services.AddSingleton<IUserPreferences>(_preferences);
        Services.AddSingleton(Options.Create(new StackOptions { ProjectName = "cohort-7" }));
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor)
            .SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, "user-1"));
        UseInteractiveServerRenderer();
    }

    [Fact]
    public void The_shell_shows_the_stack_name_the_engine_state_and_the_user()
    {
        var shell = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

        Assert.Contains("cohort-7", shell.Find("[data-test=stack-name]").TextContent);
        Assert.Equal("instructor@panel.test", shell.Find("[data-test=user-name]").TextContent);
        Assert.NotEmpty(shell.FindAll("[data-test=engine-state]"));
        Assert.Contains("page body", shell.Markup);
    }

    [Fact]
    public void The_theme_toggle_is_remembered_for_the_user()
    {
        var shell = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "x"))));

        Assert.Equal("false", shell.Find("[data-test=theme-toggle]").GetAttribute("data-dark"));
        shell.Find("[data-test=theme-toggle]").Click();

        Assert.True(_preferences.Dark["user-1"]);
        Assert.Equal("true", shell.Find("[data-test=theme-toggle]").GetAttribute("data-dark"));
        shell.Find("[data-test=theme-toggle]").Click();
        Assert.False(_preferences.Dark["user-1"]);
    }

    [Fact]
    public void The_remembered_theme_is_applied_on_the_next_visit()
    {
        _preferences.Dark["user-1"] = true;

        var shell = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "x"))));

        Assert.Equal("true", shell.Find("[data-test=theme-toggle]").GetAttribute("data-dark"));
    }

    private sealed class FakePreferences : IUserPreferences
    {
        public Dictionary<string, bool> Dark { get; } = [];

        public Task<bool> GetDarkModeAsync(string userId, CancellationToken ct = default) =>
            Task.FromResult(Dark.GetValueOrDefault(userId));

        public Task SetDarkModeAsync(string userId, bool dark, CancellationToken ct = default)
        {
            Dark[userId] = dark;
            return Task.CompletedTask;
        }
    }
}
