namespace GrafanaPanel.Web.Docker;

/// <summary>The Docker engine could not be reached or did not answer in time.</summary>
public sealed class DockerUnavailableException(string endpoint, string reason, Exception? inner = null)
    : PanelRefusalException($"The Docker engine at {endpoint} is unreachable: {reason}", inner)
{
    public override int StatusCode => StatusCodes.Status503ServiceUnavailable;

    public string Endpoint { get; } = endpoint;
}

/// <summary>The engine answered, but the container or volume asked for does not exist.</summary>
public sealed class DockerNotFoundException(string what, Exception? inner = null)
    : PanelRefusalException($"{what} was not found by the Docker engine.", inner)
{
    public override int StatusCode => StatusCodes.Status404NotFound;
}

/// <summary>The engine refused an operation; the message is the daemon's own.</summary>
public sealed class DockerOperationException(string message, Exception? inner = null) : PanelRefusalException(message, inner)
{
    public override int StatusCode => StatusCodes.Status502BadGateway;
}
