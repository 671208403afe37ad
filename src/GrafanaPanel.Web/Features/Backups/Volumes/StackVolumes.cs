using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Backups.Volumes;

/// <summary>
/// The stack's volumes and the lab containers that use them, as the snapshot and the engine show them; and the one
/// helper image. Every volume name from a request is resolved here before anything reads or writes it.
/// </summary>
public sealed class StackVolumes(IDockerEngine docker, StackSnapshot snapshot, IOptions<BackupOptions> options, IOptions<StackOptions> stackOptions)
{
    public string Project { get; } = stackOptions.Value.ProjectName;

    /// <summary>The helper image: always the setting, never an image a manifest or a container names.</summary>
    public string HelperImage => !string.IsNullOrWhiteSpace(options.Value.HelperImage)
        ? options.Value.HelperImage
        : throw new BackupRefusedException("Backups__HelperImage is not set, so no helper container can be made; nothing was touched. " +
            "Set it to the portal's own image (compose and scripts/run-portal.sh do).");

    public StackView Current => snapshot.Current;

    /// <summary>A restore or reset acts on what the engine shows; while the snapshot is stale that is not known.</summary>
    public void RefuseWhileStale(string what)
    {
        if (snapshot.Current.StaleReason is { } stale)
        {
            throw new BackupRefusedException(
                $"Nothing was {what}: the stack's state is not known right now ({stale}). Try again once the Docker engine has been read.");
        }
    }

    /// <summary>
    /// Each name must be a volume of the stack (mounted by one of its containers, or labelled with its project) and not
    /// one of the portal's own. Names are compared, never passed on, until they are known.
    /// </summary>
    public async Task<IReadOnlyList<string>> ResolveAsync(IReadOnlyList<string> requested, CancellationToken ct)
    {
        var containers = Containers();
        var portal = containers.Where(c => c.IsPortal).SelectMany(c => c.Mounts).Select(m => m.VolumeName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var known = containers.SelectMany(c => c.Mounts).Select(m => m.VolumeName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (requested.Any(v => !known.Contains(v)))
        {
            known.UnionWith((await docker.ListVolumesAsync(Project, ct)).Select(v => v.Name));
        }

        var resolved = new List<string>();
        foreach (var name in requested)
        {
            if (portal.Contains(name))
            {
                throw new BackupRefusedException(
                    $"Volume {UnsafeArchiveException.Display(name)} belongs to the portal itself; its own data is never part of a lab backup or restore.");
            }

            if (!known.Contains(name))
            {
                throw new BackupRefusedException($"Volume {UnsafeArchiveException.Display(name)} is not a volume of stack {Project}; nothing was touched.");
            }

            if (!resolved.Contains(name, StringComparer.Ordinal))
            {
                resolved.Add(name);
            }
        }

        // The labels as the engine holds them now, whatever the snapshot says (the engine checks again at every helper).
        foreach (var name in resolved)
        {
            var live = await docker.InspectVolumeAsync(name, ct)
                ?? throw new BackupRefusedException($"Volume {name} does not exist in the Docker engine; nothing was touched.");
            if (PortalVolumeRefusedException.ProblemOf(live.Labels) is { } problem)
            {
                throw new BackupRefusedException($"Volume {name} was not touched: {problem}");
            }
        }

        return resolved;
    }

    /// <summary>The lab containers that mount each volume (any state).</summary>
    public Dictionary<string, List<ContainerRecord>> UsersOf(IReadOnlyList<string> volumes)
    {
        var containers = Containers();
        return volumes.ToDictionary(v => v, v => containers.Where(c => !c.IsPortal && c.Mounts.Any(m => m.VolumeName == v)).ToList(), StringComparer.Ordinal);
    }

    /// <summary>The lab containers that mount any of the volumes, in dependency order across all of them (not per volume:
    /// a set's volumes come in any order, and a dependency may use another volume than its dependent).</summary>
    public List<ContainerRecord> UsersInOrder(IReadOnlyList<string> volumes) =>
        [.. Containers().Where(c => !c.IsPortal && c.Mounts.Any(m => m.VolumeName is { } name && volumes.Contains(name, StringComparer.Ordinal)))];

    /// <summary>
    /// The lab services that use any of the volumes, each with only its containers that mount one: what a restore of
    /// them stops and starts.
    /// </summary>
    public IReadOnlyList<ServiceView> ServicesUsing(IReadOnlyList<string> volumes)
    {
        var users = UsersInOrder(volumes).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        return [.. snapshot.Current.Services
            .Select(s => s with { Containers = [.. s.Containers.Where(c => users.Contains(c.Id))] })
            .Where(s => !s.Containers.IsEmpty)];
    }

    private List<ContainerRecord> Containers() =>
        // In dependency order (compose's depends_on), so starts go dependencies first and stops the other way round.
        [.. StackControl.DependencyOrder(snapshot.Current.Services).SelectMany(s => s.Containers).Where(c => !c.Labels.ContainsKey(HelperContainerBody.HelperLabel))];
}
