using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.Web.Tests.Features.Accounts;

public sealed class LoginPageTests : PanelTestContext
{
    private DatabaseStatus _database = new();

    public LoginPageTests()
    {
        _database.ReportReady();
        Services.AddSingleton(_ => _database);
    }

    [Fact]
    public void While_the_database_is_unreachable_it_says_so_in_words_and_shows_no_form()
    {
        _database = new DatabaseStatus();
        _database.ReportProblem("PostgreSQL at host db, port 5432, database panel is unreachable (Connection refused).");

        var page = Render<LoginPage>();

        Assert.Contains("host db, port 5432, database panel is unreachable", page.Find("[data-test=database-unreachable]").TextContent);
        Assert.Empty(page.FindAll("[data-test=login-form]"));
    }

    [Fact]
    public void Shows_the_error_from_the_last_attempt_and_keeps_the_email()
    {
        Services.GetRequiredService<NavigationManager>()
            .NavigateTo("/account/login?error=Wrong%20e-mail%20or%20password.&email=admin%40panel.test");

        var page = Render<LoginPage>();

        Assert.Equal("Wrong e-mail or password.", page.Find("[data-test=login-error]").TextContent);
        Assert.Equal("admin@panel.test", page.Find("input[name=Email]").GetAttribute("value"));
        Assert.Empty(page.Find("input[name=Password]").GetAttribute("value") ?? "");
    }

    [Fact]
    public void Shows_no_error_on_a_first_visit_and_requires_both_fields()
    {
        var page = Render<LoginPage>();

        Assert.Empty(page.FindAll("[data-test=login-error]"));
        Assert.True(page.Find("input[name=Email]").HasAttribute("required"));
        Assert.True(page.Find("input[name=Password]").HasAttribute("required"));
        Assert.Equal("email", page.Find("input[name=Email]").GetAttribute("type"));
    }

    [Theory]
    [InlineData("https://evil.example/", "/")]
    [InlineData("/admin/users", "/admin/users")]
    public void Carries_only_a_local_return_url_into_the_form(string returnUrl, string carried)
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl));

        var page = Render<LoginPage>();

        Assert.Equal(carried, page.Find("input[name=ReturnUrl]").GetAttribute("value"));
    }
}
