namespace GrafanaPanel.Web;

/// <summary>
/// An action the portal refused, or could not carry out, for a reason the person who asked can act on: the message
/// says what is wrong and what to do, and <see cref="StatusCode"/> is what an endpoint answers with. Pages and
/// endpoints catch this one type; anything else is a fault (logged, and shown as such).
/// </summary>
public abstract class PanelRefusalException(string message, Exception? inner = null) : Exception(message, inner)
{
    public virtual int StatusCode { get; init; } = StatusCodes.Status400BadRequest;
}
