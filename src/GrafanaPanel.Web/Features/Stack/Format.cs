using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>How the stack pages write sizes, durations and states.</summary>
public static class Format
{
    public static string Bytes(long? bytes)
    {
        if (bytes is null)
        {
            return "unknown";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes.Value;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : $"{value:0.#} {units[unit]}";
    }

    public static string Duration(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } => $"{(int)span.TotalDays} d {span.Hours} h",
        { TotalHours: >= 1 } => $"{(int)span.TotalHours} h {span.Minutes} min",
        { TotalMinutes: >= 1 } => $"{(int)span.TotalMinutes} min",
        _ => $"{Math.Max(0, (int)span.TotalSeconds)} s",
    };

    public static string Uptime(ServiceView service, DateTimeOffset now) =>
        service.State == ContainerState.Running && service.StartedAt is { } started ? Duration(now - started) : "–";

    public static string State(ContainerState state) => state.ToString().ToLowerInvariant();

    public static string Health(ServiceHealth health) => health.ToString().ToLowerInvariant();

    public static MudBlazor.Color HealthColor(ServiceHealth health) => health switch
    {
        ServiceHealth.Healthy => MudBlazor.Color.Success,
        ServiceHealth.Running => MudBlazor.Color.Info,
        ServiceHealth.Starting => MudBlazor.Color.Warning,
        ServiceHealth.Paused => MudBlazor.Color.Warning,
        _ => MudBlazor.Color.Error,
    };

    public static string Ago(DateTimeOffset? at, DateTimeOffset now) => at is null ? "never" : $"{Duration(now - at.Value)} ago";
}
