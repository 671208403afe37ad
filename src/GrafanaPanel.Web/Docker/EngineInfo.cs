namespace GrafanaPanel.Web.Docker;

/// <summary>What the daemon says about itself.</summary>
public sealed record EngineInfo(string Version, string ApiVersion, string OperatingSystem);
