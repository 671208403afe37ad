using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

public static class TestAudit
{
    /// <summary>The real audit log on the app's database, stamping entries with a clock the test moves.</summary>
    public static AuditLog LogWithClock(PanelAppFactory app, TimeProvider clock) =>
        new(app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(), clock, NullLogger<AuditLog>.Instance);

    /// <summary>The app's audit entries whose action starts with <paramref name="actionPrefix"/>, oldest first.</summary>
    public static async Task<List<AuditEntry>> EntriesAsync(PanelAppFactory app, string actionPrefix)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        return await db.AuditEntries.Where(e => e.Action.StartsWith(actionPrefix)).OrderBy(e => e.Id).ToListAsync();
    }
}
