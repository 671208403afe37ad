using System.Text.RegularExpressions;
using Docker.DotNet.Models;

namespace GrafanaPanel.Web.Docker;

/// <summary>A named volume of the stack mounted into a helper container at <see cref="Target"/> (under <c>/v/</c>).</summary>
public sealed record HelperVolumeMount(string VolumeName, string Target, bool ReadOnly);

/// <summary>
/// A helper container the portal writes itself: a pinned image, only named volumes of the stack, and, when it is ever
/// started, a fixed command of the portal's (never input). <see cref="AllowDeletingAnyFile"/> keeps
/// <c>CAP_DAC_OVERRIDE</c> and <c>CAP_FOWNER</c> (a subset of Docker's defaults) so a root process can empty a volume
/// whose folders belong to other users; every other helper runs with no capability at all.
/// </summary>
public sealed record HelperContainerSpec(
    string Project,
    string Image,
    IReadOnlyList<HelperVolumeMount> Volumes,
    IReadOnlyList<string> Command,
    bool AllowDeletingAnyFile = false);

/// <summary>A volume of the project, as <c>GET /volumes</c> lists it.</summary>
public sealed record VolumeRecord(string Name, IReadOnlyDictionary<string, string> Labels);

/// <summary>Refused to create a helper container whose body breaks the rules in docs/security.md, "Helper containers".</summary>
public sealed class UnsafeHelperContainerException(string problem)
    : Exception($"The helper container was not created: {problem}");

/// <summary>
/// A helper container would have mounted a volume that carries the label <c>grafana-panel.role</c> (the portal's own
/// data), or one that does not exist. Read from the engine at the moment of the action, whatever the stack snapshot
/// says: no backup, restore, reset or rollback ever reads or writes such a volume.
/// </summary>
public sealed class PortalVolumeRefusedException(string volume, string problem)
    : PanelRefusalException($"Volume {volume} was not touched: {problem}")
{
    public string Volume { get; } = volume;

    /// <summary>Why a volume with these labels may not be mounted into a helper, or null when it may.</summary>
    public static string? ProblemOf(IReadOnlyDictionary<string, string> labels) =>
        labels.TryGetValue(ContainerRecord.PortalRoleLabel, out var role)
            ? $"it carries the label {ContainerRecord.PortalRoleLabel}={role}, so it holds the portal's own data, which no backup, " +
              "restore, reset or rollback ever touches."
            : null;
}

/// <summary>Builds and checks the body of the portal's helper containers (docs/security.md, "Helper containers").</summary>
internal static partial class HelperContainerBody
{
    /// <summary>Every helper carries it; start-up recovery removes leftovers by it.</summary>
    public const string HelperLabel = "grafana-panel.helper";

    public static CreateContainerParameters Build(HelperContainerSpec spec)
    {
        var body = new CreateContainerParameters
        {
            Image = spec.Image,
            Entrypoint = [spec.Command[0]],
            Cmd = spec.Command.Skip(1).ToList(),
            User = "0:0",
            WorkingDir = "/",
            NetworkDisabled = true,
            Labels = new Dictionary<string, string>
            {
                [HelperLabel] = "true",
                [ContainerRecord.ProjectLabel] = spec.Project,
            },
            HostConfig = new HostConfig
            {
                Mounts = spec.Volumes.Select(v => new Mount { Type = "volume", Source = v.VolumeName, Target = v.Target, ReadOnly = v.ReadOnly }).ToList(),
                NetworkMode = "none",
                Privileged = false,
                CapDrop = ["ALL"],
                CapAdd = spec.AllowDeletingAnyFile ? ["CAP_DAC_OVERRIDE", "CAP_FOWNER"] : null,
                SecurityOpt = ["no-new-privileges"],
                AutoRemove = false,
            },
        };
        Check(body);
        return body;
    }

    /// <summary>Refuses any body with a bind, a non-volume mount, a host path, privileges, devices or a host namespace.</summary>
    public static void Check(CreateContainerParameters body)
    {
        var host = body.HostConfig ?? throw new UnsafeHelperContainerException("it has no host configuration.");
        if (host.Binds is { Count: > 0 })
        {
            throw new UnsafeHelperContainerException($"it has binds ({string.Join(", ", host.Binds)}); helpers mount named volumes only.");
        }

        if (host.VolumesFrom is { Count: > 0 } || body.Volumes is { Count: > 0 })
        {
            throw new UnsafeHelperContainerException("it asks for anonymous volumes or volumes of another container.");
        }

        foreach (var mount in host.Mounts ?? [])
        {
            if (mount.Type != "volume" || !IsVolumeName(mount.Source))
            {
                throw new UnsafeHelperContainerException($"mount '{mount.Source}' is not a named volume.");
            }

            if (!IsHelperTarget(mount.Target))
            {
                throw new UnsafeHelperContainerException($"mount target '{mount.Target}' is not a folder under /v/.");
            }
        }

        if (host.Privileged || host.Devices is { Count: > 0 } || host.DeviceRequests is { Count: > 0 }
            || host.DeviceCgroupRules is { Count: > 0 })
        {
            throw new UnsafeHelperContainerException("it is privileged or has devices.");
        }

        if (host.CapDrop is null || !host.CapDrop.Contains("ALL")
            || (host.CapAdd ?? []).Any(c => c is not ("CAP_DAC_OVERRIDE" or "CAP_FOWNER")))
        {
            throw new UnsafeHelperContainerException("it does not drop every capability.");
        }

        if (host.NetworkMode != "none" || !string.IsNullOrEmpty(host.PidMode) || !string.IsNullOrEmpty(host.IpcMode)
            || !string.IsNullOrEmpty(host.UTSMode) || !string.IsNullOrEmpty(host.UsernsMode) || !string.IsNullOrEmpty(host.CgroupnsMode))
        {
            throw new UnsafeHelperContainerException("it shares a namespace with the host or has a network.");
        }

        if (host.PortBindings is { Count: > 0 } || host.Tmpfs is { Count: > 0 })
        {
            throw new UnsafeHelperContainerException("it publishes ports or mounts a tmpfs.");
        }

        if (body.Labels is null || !body.Labels.TryGetValue(HelperLabel, out var helper) || helper != "true")
        {
            throw new UnsafeHelperContainerException($"it lacks the label {HelperLabel}=true.");
        }
    }

    /// <summary>Docker's rule for volume names (at least two characters).</summary>
    public static bool IsVolumeName(string? name) => name is not null && VolumeNamePattern().IsMatch(name);

    private static bool IsHelperTarget(string? target) =>
        target is not null && target.StartsWith("/v/", StringComparison.Ordinal) && IsVolumeName(target[3..]);

    [GeneratedRegex(@"\A[a-zA-Z0-9][a-zA-Z0-9_.-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex VolumeNamePattern();
}
