using System.Globalization;
using Docker.DotNet.Models;

namespace GrafanaPanel.Web.Docker;

/// <summary>Turns Docker.DotNet's models into the project's records, so none of them leaves this folder.</summary>
internal static class ContainerMapping
{
    public static ContainerRecord ToRecord(ContainerInspectResponse container, string? statusText)
    {
        var state = container.State;
        return new ContainerRecord(
            container.ID,
            container.Name?.TrimStart('/') ?? container.ID,
            container.Config?.Image ?? container.Image,
            ToState(state?.Status),
            string.IsNullOrEmpty(statusText) ? state?.Status ?? "unknown" : statusText,
            ToHealth(state?.Health),
            ToUtc(container.Created),
            ParseDockerTime(state?.StartedAt),
            ParseDockerTime(state?.FinishedAt),
            (int)(state?.ExitCode ?? 0),
            (int)container.RestartCount,
            ToPorts(container.NetworkSettings?.Ports),
            ToNetworkAddresses(container.NetworkSettings?.Networks),
            ToMounts(container.Mounts),
            Copy(container.Config?.Labels));
    }

    public static ContainerState ToState(string? status) =>
        Enum.TryParse<ContainerState>(status, ignoreCase: true, out var state) ? state : ContainerState.Unknown;

    public static EngineEvent ToEvent(Message message) =>
        new(message.Type ?? "",
            message.Action ?? "",
            message.Actor?.ID ?? "",
            Copy(message.Actor?.Attributes),
            message.TimeNano > 0
                ? DateTimeOffset.UnixEpoch.AddTicks(message.TimeNano.Value / 100)
                : DateTimeOffset.FromUnixTimeSeconds(message.Time ?? 0));

    private static HealthRecord? ToHealth(Health? health)
    {
        // The daemon sends no Health at all for a container without a health check.
        if (health is null || string.IsNullOrEmpty(health.Status))
        {
            return null;
        }

        var last = health.Log?.LastOrDefault();
        return new HealthRecord(
            health.Status,
            (int)health.FailingStreak,
            last?.Output?.TrimEnd(),
            last is null ? null : ToUtc(last.End == default ? last.Start : last.End));
    }

    private static List<PortRecord> ToPorts(IDictionary<string, IList<PortBinding>>? ports)
    {
        var records = new List<PortRecord>();
        foreach (var (key, bindings) in ports ?? new Dictionary<string, IList<PortBinding>>())
        {
            // Keys look like "3000/tcp".
            var slash = key.IndexOf('/');
            if (!int.TryParse(slash < 0 ? key : key[..slash], CultureInfo.InvariantCulture, out var privatePort))
            {
                continue;
            }

            var protocol = slash < 0 ? "tcp" : key[(slash + 1)..];
            if (bindings is null || bindings.Count == 0)
            {
                records.Add(new PortRecord(privatePort, protocol, null, null));
                continue;
            }

            foreach (var binding in bindings)
            {
                int? publicPort = int.TryParse(binding.HostPort, CultureInfo.InvariantCulture, out var port) ? port : null;
                // With IPv6 on, the daemon lists the same host port once for 0.0.0.0 and once for ::; one link is enough.
                if (!records.Any(r => r.PrivatePort == privatePort && r.Protocol == protocol && r.PublicPort == publicPort))
                {
                    records.Add(new PortRecord(privatePort, protocol, publicPort, NullIfEmpty(binding.HostIP)));
                }
            }
        }

        return records.OrderBy(p => p.PrivatePort).ThenBy(p => p.Protocol, StringComparer.Ordinal).ToList();
    }

    private static Dictionary<string, string> ToNetworkAddresses(IDictionary<string, EndpointSettings>? networks) =>
        (networks ?? new Dictionary<string, EndpointSettings>())
        .ToDictionary(n => n.Key, n => n.Value?.IPAddress ?? "", StringComparer.Ordinal);

    private static List<MountRecord> ToMounts(IList<MountPoint>? mounts) =>
        (mounts ?? [])
        .Select(m => new MountRecord(m.Type ?? "", NullIfEmpty(m.Name), m.Source ?? "", m.Destination ?? "", !m.RW))
        .ToList();

    private static Dictionary<string, string> Copy(IDictionary<string, string>? values) =>
        values is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(values, StringComparer.Ordinal);

    /// <summary>The daemon writes "0001-01-01T00:00:00Z" for "never"; that becomes null.</summary>
    internal static DateTimeOffset? ParseDockerTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) && time.Year > 1
            ? time.ToUniversalTime()
            : null;

    private static DateTimeOffset ToUtc(DateTime value) =>
        value.Kind == DateTimeKind.Unspecified
            ? new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc))
            : new DateTimeOffset(value.ToUniversalTime());

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
