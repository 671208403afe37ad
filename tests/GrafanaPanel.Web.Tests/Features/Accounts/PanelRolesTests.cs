using GrafanaPanel.Web.Features.Accounts;

namespace GrafanaPanel.Web.Tests.Features.Accounts;

public sealed class PanelRolesTests
{
    [Fact]
    public void Roles_rank_admin_over_instructor_over_viewer()
    {
        Assert.True(PanelRoles.Rank(PanelRoles.Admin) > PanelRoles.Rank(PanelRoles.Instructor));
        Assert.True(PanelRoles.Rank(PanelRoles.Instructor) > PanelRoles.Rank(PanelRoles.Viewer));
        Assert.Equal(0, PanelRoles.Rank("admin"));
        Assert.Equal(0, PanelRoles.Rank(null));
    }

    [Fact]
    public void The_highest_role_of_a_user_is_reported()
    {
        Assert.Equal(PanelRoles.Admin, RoleGate.HighestRole([PanelRoles.Viewer, PanelRoles.Admin]));
        Assert.Equal("none", RoleGate.HighestRole([]));
    }
}
