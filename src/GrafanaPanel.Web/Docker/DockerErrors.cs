namespace GrafanaPanel.Web.Docker;

/// <summary>The Docker engine could not be reached or did not answer in time.</summary>
public sealed class DockerUnavailableException(string endpoint, string reason, Exception? inner = null)
    : Exception($"The Docker engine at {endpoint} is unreachable: {reason}", inner)
{
    public string Endpoint { get; } = endpoint;
}

/// <summary>The engine answered, but the container or volume asked for does not exist.</summary>
public sealed class DockerNotFoundException(string what, Exception? inner = null)
    : Exception($"{what} was not found by the Docker engine.", inner);

/// <summary>The engine refused an operation; the message is the daemon's own.</summary>
public sealed class DockerOperationException(string message, Exception? inner = null) : Exception(message, inner);
