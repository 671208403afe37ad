using Docker.DotNet.Models;

namespace GrafanaPanel.Web.Docker;

/// <summary>Volumes: listing, inspecting, creating and removing them, and the checks of a helper container's volumes.</summary>
public sealed partial class DockerEngine
{
    public async Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(string project, CancellationToken ct)
    {
        var listed = await CallAsync($"listing the volumes of project {project}", $"Project {project}",
            token => _client.Volumes.ListAsync(new VolumesListParameters { Filters = Filter("label", $"{ContainerRecord.ProjectLabel}={project}") }, token),
            ct);
        return (listed.Volumes ?? []).Select(v => new VolumeRecord(v.Name, (IReadOnlyDictionary<string, string>?)v.Labels ?? new Dictionary<string, string>())).ToList();
    }

    public async Task<bool> VolumeExistsAsync(string name, CancellationToken ct)
    {
        if (!HelperContainerBody.IsVolumeName(name))
        {
            return false;
        }

        try
        {
            await CallAsync($"inspecting volume {name}", VolumeSubject(name), token => _client.Volumes.InspectAsync(name, token), ct);
            return true;
        }
        catch (DockerNotFoundException)
        {
            return false;
        }
    }

    public async Task<VolumeRecord?> InspectVolumeAsync(string name, CancellationToken ct)
    {
        if (!HelperContainerBody.IsVolumeName(name))
        {
            return null;
        }

        try
        {
            var volume = await CallAsync($"inspecting volume {name}", VolumeSubject(name), token => _client.Volumes.InspectAsync(name, token), ct);
            return new VolumeRecord(volume.Name, (IReadOnlyDictionary<string, string>?)volume.Labels ?? new Dictionary<string, string>());
        }
        catch (DockerNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Refuses a helper that would mount a volume that does not exist or is labelled as the portal's own.</summary>
    private async Task CheckHelperVolumesAsync(HelperContainerSpec spec, CancellationToken ct)
    {
        foreach (var mount in spec.Volumes)
        {
            var volume = await InspectVolumeAsync(mount.VolumeName, ct)
                ?? throw new PortalVolumeRefusedException(mount.VolumeName, "it does not exist in the Docker engine; a helper never creates a volume.");
            if (PortalVolumeRefusedException.ProblemOf(volume.Labels) is { } problem)
            {
                throw new PortalVolumeRefusedException(mount.VolumeName, problem);
            }
        }
    }

    public async Task CreateVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        if (!HelperContainerBody.IsVolumeName(name))
        {
            throw new DockerOperationException($"'{name}' is not a Docker volume name.");
        }

        await CallAsync($"creating volume {name}", VolumeSubject(name),
            token => _client.Volumes.CreateAsync(new VolumesCreateParameters { Name = name, Labels = labels.ToDictionary() }, token), ct);
    }

    public async Task RemoveVolumeAsync(string name, CancellationToken ct)
    {
        if (!HelperContainerBody.IsVolumeName(name))
        {
            return;
        }

        try
        {
            await CallAsync($"removing volume {name}", VolumeSubject(name), async token =>
            {
                await _client.Volumes.RemoveAsync(name, force: false, token);
                return true;
            }, ct);
        }
        catch (DockerNotFoundException)
        {
        }
    }

    private static void CheckCreatedHelper(ContainerInspectResponse inspected, HelperContainerSpec spec)
    {
        var host = inspected.HostConfig;
        var expected = spec.Volumes.Select(v => (v.VolumeName, v.Target)).OrderBy(v => v.Target, StringComparer.Ordinal).ToList();
        var actual = (inspected.Mounts ?? []).Select(m => (Name: m.Name ?? "", m.Destination)).OrderBy(v => v.Destination, StringComparer.Ordinal).ToList();
        if (host is null || host.Binds is { Count: > 0 } || host.Privileged || host.NetworkMode != "none"
            || (inspected.Mounts ?? []).Any(m => m.Type != "volume") || !expected.SequenceEqual(actual))
        {
            throw new UnsafeHelperContainerException(
                $"the daemon created container {inspected.ID} with other mounts or privileges than asked for " +
                $"(mounts: {string.Join(", ", actual.Select(m => $"{m.Item1}:{m.Item2}"))}); it was removed.");
        }
    }

    private static string VolumeSubject(string name) => $"Volume {name}";
}
