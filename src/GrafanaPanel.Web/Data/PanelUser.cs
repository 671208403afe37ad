using Microsoft.AspNetCore.Identity;

namespace GrafanaPanel.Web.Data;

/// <summary>A person who signs in to the portal. Roles come from ASP.NET Core Identity.</summary>
public class PanelUser : IdentityUser
{
    /// <summary>The user's theme choice, remembered across sessions and devices.</summary>
    public bool PrefersDarkMode { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
