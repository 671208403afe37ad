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

    [Theory]
    [InlineData(PanelRoles.Admin)]
    [InlineData(PanelRoles.Instructor)]
    [InlineData(PanelRoles.Viewer)]
    public void Every_signed_in_role_sees_the_audit_log(string role)
    {
        AddAuthorization().SetAuthorized("someone@panel.test").SetRoles(role);

        var menu = Render<NavMenu>();

        Assert.Equal("audit", menu.Find("[data-test=nav-audit]").GetAttribute("href"));
    }

    [Theory]
    [InlineData(PanelRoles.Admin, true)]
    [InlineData(PanelRoles.Instructor, true)]
    [InlineData(PanelRoles.Viewer, false)]
    public void Every_role_sees_the_modules_and_instructors_the_learner_accounts(string role, bool learners)
    {
        AddAuthorization().SetAuthorized("someone@panel.test").SetRoles(role);

        var menu = Render<NavMenu>();

        Assert.Equal("modules", menu.Find("[data-test=nav-modules]").GetAttribute("href"));
        Assert.Equal(learners, menu.FindAll("[data-test=nav-learners]").Count == 1);
    }

    [Fact]
    public void No_one_signed_out_sees_the_audit_log()
    {
        AddAuthorization().SetNotAuthorized();

        var menu = Render<NavMenu>();

        Assert.Empty(menu.FindAll("[data-test=nav-audit]"));
    }
}
