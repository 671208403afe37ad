namespace GrafanaPanel.Web.Features.Resets;

/// <summary>
/// Tells open pages that a reset's status or step log changed (the run itself is read from the database, where the
/// job writes every step). Raised on the job's thread; components re-render via InvokeAsync.
/// </summary>
public sealed class ResetProgressHub
{
    public event Action<Guid>? Changed;

    public void Publish(Guid runId) => Changed?.Invoke(runId);
}
