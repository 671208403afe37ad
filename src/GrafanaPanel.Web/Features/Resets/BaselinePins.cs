using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>A baseline keeps its set pinned until the baseline is deleted.</summary>
public sealed class BaselinePins(IDbContextFactory<PanelDbContext> dbs) : ISetPinHolder
{
    public async Task<string?> WhyPinnedAsync(Guid setId, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var name = await db.Baselines.Where(b => b.SetId == setId).Select(b => b.Name).FirstOrDefaultAsync(ct);
        return name is null ? null : $"baseline \"{name}\"; a baseline stays pinned. Delete the baseline on the Resets page first.";
    }
}
