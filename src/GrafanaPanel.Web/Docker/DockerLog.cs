namespace GrafanaPanel.Web.Docker;

/// <summary>The engine's repeated log events, source-generated.</summary>
internal static partial class DockerLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug,
        Message = "Container {ContainerId} of project {Project} disappeared between list and inspect; skipped")]
    public static partial void ContainerVanished(ILogger logger, string containerId, string project);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Docker event stream from {Endpoint} ended: {Reason}")]
    public static partial void EventStreamEnded(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug,
        Message = "Stats of container {ContainerId} came without a previous CPU reading; taking a second sample")]
    public static partial void StatsSecondSample(ILogger logger, string containerId);
}
