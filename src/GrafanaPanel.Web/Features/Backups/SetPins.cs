namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// Something outside backups that keeps a set pinned (a reset's baseline): asked before a pin is lifted, so backups
/// need not know what holds it.
/// </summary>
public interface ISetPinHolder
{
    /// <summary>Why the set must stay pinned ("baseline \"x\"; …"), or null when this holder does not hold it.</summary>
    Task<string?> WhyPinnedAsync(Guid setId, CancellationToken ct);
}
