using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>Per-user settings of the UI (theme), stored with the user so they follow the person.</summary>
public interface IUserPreferences
{
    Task<bool> GetDarkModeAsync(string userId, CancellationToken ct = default);

    Task SetDarkModeAsync(string userId, bool dark, CancellationToken ct = default);
}

public sealed class UserPreferences(IDbContextFactory<PanelDbContext> dbFactory) : IUserPreferences
{
    public async Task<bool> GetDarkModeAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Users.Where(u => u.Id == userId).Select(u => u.PrefersDarkMode).FirstOrDefaultAsync(ct);
    }

    public async Task SetDarkModeAsync(string userId, bool dark, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersDarkMode, dark), ct);
    }
}
