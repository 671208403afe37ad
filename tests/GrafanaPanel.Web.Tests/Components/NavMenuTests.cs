using GrafanaPanel.Web.Components.Layout;
using GrafanaPanel.Web.Features.Accounts;

namespace GrafanaPanel.Web.Tests.Components;

public sealed class NavMenuTests : PanelTestContext
{
    [Fact]
    public void An_admin_sees_the_users_and_jobs_pages()
    {
        AddAuthorization().SetAuthorized("admin@panel.test").SetRoles(PanelRoles.Admin);

        var menu = Render<NavMenu>();

        Assert.NotEmpty(menu.FindAll("[data-test=nav-users]"));
        Assert.NotEmpty(menu.FindAll("[data-test=nav-jobs]"));
    }

    [Theory]
    [InlineData(PanelRoles.Instructor)]
    [InlineData(PanelRoles.Viewer)]
    public void Other_roles_see_no_admin_pages(string role)
    {
        AddAuthorization().SetAuthorized("someone@panel.test").SetRoles(role);

        var menu = Render<NavMenu>();

        Assert.Empty(menu.FindAll("[data-test=nav-users]"));
        Assert.Empty(menu.FindAll("[data-test=nav-jobs]"));
        Assert.Contains("Overview", menu.Markup);
    }
}
