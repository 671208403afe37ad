namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>The three roles of the portal, from most to least powerful.</summary>
public static class PanelRoles
{
    public const string Admin = "Admin";
    public const string Instructor = "Instructor";
    public const string Viewer = "Viewer";

    public static IReadOnlyList<string> All { get; } = [Admin, Instructor, Viewer];

    /// <summary>Rank for "at least" checks: Admin 3, Instructor 2, Viewer 1, anything else 0.</summary>
    public static int Rank(string? role) => role switch
    {
        Admin => 3,
        Instructor => 2,
        Viewer => 1,
        _ => 0,
    };

    public static bool IsKnown(string? role) => Rank(role) > 0;
}

/// <summary>Authorization policy names; each admits its role and every higher one.</summary>
public static class PanelPolicies
{
    public const string Admin = "RequireAdmin";
    public const string Instructor = "RequireInstructor";
}
