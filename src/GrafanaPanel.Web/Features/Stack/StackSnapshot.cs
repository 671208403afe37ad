using System.Collections.Immutable;
using GrafanaPanel.Web.Docker;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>The result of the portal's latest probe of one service.</summary>
public sealed record ProbeResult(bool Healthy, int LatencyMs, string Message, DateTimeOffset At);

/// <summary>How one service looks right now, derived from its containers, probe, stats and volume sizes.</summary>
public sealed record ServiceView(
    string Name,
    string Layer,
    ImmutableArray<ContainerRecord> Containers,
    ProbeResult? Probe,
    ContainerStats? Stats,
    ImmutableArray<VolumeView> Volumes,
    ImmutableArray<string> DependsOn)
{
    public bool IsPortal => Containers.Any(c => c.IsPortal);

    public ContainerState State => Containers.IsEmpty
        ? ContainerState.Unknown
        : Containers.Select(c => c.State).OrderBy(StateRank).First();

    public HealthRecord? DockerHealth => Containers.Select(c => c.Health).FirstOrDefault(h => h is not null);

    /// <summary>One verdict for chips and the summary: Docker's health check first, then the portal's probe.</summary>
    public ServiceHealth Health
    {
        get
        {
            if (State is not (ContainerState.Running or ContainerState.Restarting))
            {
                return State == ContainerState.Paused ? ServiceHealth.Paused : ServiceHealth.Down;
            }

            if (State == ContainerState.Restarting || DockerHealth?.Status == "unhealthy" || Probe is { Healthy: false })
            {
                return ServiceHealth.Unhealthy;
            }

            if (DockerHealth?.Status == "starting")
            {
                return ServiceHealth.Starting;
            }

            return DockerHealth?.Status == "healthy" || Probe is { Healthy: true } ? ServiceHealth.Healthy : ServiceHealth.Running;
        }
    }

    public DateTimeOffset? StartedAt => Containers.Select(c => c.StartedAt).Where(s => s.HasValue).DefaultIfEmpty().Min();

    public int RestartCount => Containers.Sum(c => c.RestartCount);

    public string Image => Containers.FirstOrDefault()?.Image ?? "";

    public IEnumerable<PortRecord> PublishedPorts =>
        Containers.SelectMany(c => c.Ports).Where(p => p.PublicPort is not null).DistinctBy(p => (p.PublicPort, p.Protocol));

    public IEnumerable<string> Networks => Containers.SelectMany(c => c.NetworkAddresses.Keys).Distinct();

    // Worst state first, so one failed replica colours the service.
    private static int StateRank(ContainerState state) => state switch
    {
        ContainerState.Dead => 0,
        ContainerState.Exited => 1,
        ContainerState.Restarting => 2,
        ContainerState.Paused => 3,
        ContainerState.Created => 4,
        ContainerState.Removing => 5,
        ContainerState.Running => 6,
        _ => 7,
    };
}

public enum ServiceHealth
{
    Healthy,
    Running,
    Starting,
    Unhealthy,
    Paused,
    Down,
}

/// <summary>A named volume of the stack with its last measured size (null: unknown).</summary>
public sealed record VolumeView(string Name, long? SizeBytes);

/// <summary>Everything the stack pages render, as one immutable value.</summary>
public sealed record StackView(
    string Project,
    ImmutableArray<ServiceView> Services,
    ImmutableArray<VolumeView> Volumes,
    DateTimeOffset? VolumesMeasuredAt,
    DateTimeOffset? UpdatedAt,
    string? StaleReason)
{
    public bool IsStale => StaleReason is not null;

    /// <summary>The stack's named volumes a backup or baseline may hold: every one but the portal's own, by name.</summary>
    public IReadOnlyList<string> LabVolumeNames
    {
        get
        {
            var portal = Services.Where(s => s.IsPortal).SelectMany(s => s.Volumes).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
            return [.. Volumes.Select(v => v.Name).Where(n => !portal.Contains(n)).Order(StringComparer.Ordinal)];
        }
    }

    public int HealthyCount => Services.Count(s => s.Health is ServiceHealth.Healthy or ServiceHealth.Running);

    /// <summary>Sum of the known volume sizes; null while nothing was measured.</summary>
    public long? DiskUsedBytes => VolumesMeasuredAt is null ? null : Volumes.Sum(v => v.SizeBytes ?? 0);

    public ServiceView? Find(string name) => Services.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
}

/// <summary>
/// The in-memory picture of the stack that every page renders from. Updated by <see cref="StackMonitor"/>
/// from the Docker events stream, reconciliation, probes and disk usage; pages subscribe to
/// <see cref="Changed"/> and never call the daemon to render.
/// </summary>
public sealed class StackSnapshot
{
    private readonly Lock _gate = new();
    private readonly StackOptions _options;
    private readonly TimeProvider _time;
    private ImmutableDictionary<string, ContainerRecord> _containers = ImmutableDictionary<string, ContainerRecord>.Empty;
    private ImmutableDictionary<string, ProbeResult> _probes = ImmutableDictionary<string, ProbeResult>.Empty;
    private ImmutableDictionary<string, ContainerStats> _stats = ImmutableDictionary<string, ContainerStats>.Empty;
    private ImmutableDictionary<string, long?> _volumeSizes = ImmutableDictionary<string, long?>.Empty;
    private DateTimeOffset? _volumesMeasuredAt;
    private DateTimeOffset? _updatedAt;
    private string? _staleReason = "The stack has not been read yet.";
    private StackView _view;
    private int _watchers;

    public StackSnapshot(IOptions<StackOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _view = Build();
    }

    public StackView Current => Volatile.Read(ref _view);

    /// <summary>Raised after every change, on the thread that made it; components re-render via InvokeAsync.</summary>
    public event Action<StackView>? Changed;

    /// <summary>Number of open pages that want live CPU/memory.</summary>
    public int Watchers => Volatile.Read(ref _watchers);

    /// <summary>Marks a page as looking at resource use until the returned handle is disposed.</summary>
    public IDisposable Watch()
    {
        Interlocked.Increment(ref _watchers);
        return new Unwatch(this);
    }

    public void ReplaceContainers(IEnumerable<ContainerRecord> containers) => Mutate(() =>
    {
        _containers = containers.ToImmutableDictionary(c => c.Id);
        _stats = _stats.RemoveRange(_stats.Keys.Where(id => !_containers.ContainsKey(id)));
        _staleReason = null;
        _updatedAt = _time.GetUtcNow();
    });

    public void UpsertContainer(ContainerRecord container) => Mutate(() =>
    {
        _containers = _containers.SetItem(container.Id, container);
        _updatedAt = _time.GetUtcNow();
    });

    public void RemoveContainer(string id) => Mutate(() =>
    {
        _containers = _containers.Remove(id);
        _stats = _stats.Remove(id);
        _updatedAt = _time.GetUtcNow();
    });

    public void SetProbe(string service, ProbeResult result) => Mutate(() => _probes = _probes.SetItem(service, result));

    public void SetStats(string containerId, ContainerStats stats) => Mutate(() => _stats = _stats.SetItem(containerId, stats));

    public void SetVolumeUsage(IEnumerable<VolumeUsage> volumes, DateTimeOffset measuredAt) => Mutate(() =>
    {
        _volumeSizes = volumes.ToImmutableDictionary(v => v.Name, v => v.SizeBytes);
        _volumesMeasuredAt = measuredAt;
    });

    /// <summary>The daemon cannot be reached: keep the last known state, but say it may be out of date.</summary>
    public void MarkStale(string reason) => Mutate(() => _staleReason = reason);

    private void Mutate(Action change)
    {
        StackView view;
        lock (_gate)
        {
            change();
            view = Build();
            Volatile.Write(ref _view, view);
        }

        Changed?.Invoke(view);
    }

    private StackView Build()
    {
        var services = _containers.Values
            .Where(c => c.Service is not null)
            .GroupBy(c => c.Service!)
            .Select(g => BuildService(g.Key, [.. g.OrderBy(c => c.Name, StringComparer.Ordinal)]))
            .OrderBy(s => StackOptions.LayerOrder.ToList().IndexOf(s.Layer) is var i && i < 0 ? int.MaxValue : i)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToImmutableArray();

        var volumes = _containers.Values
            .SelectMany(c => c.Mounts)
            .Where(m => m.VolumeName is not null)
            .Select(m => m.VolumeName!)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .Select(VolumeOf)
            .ToImmutableArray();

        return new StackView(_options.ProjectName, services, volumes, _volumesMeasuredAt, _updatedAt, _staleReason);
    }

    private ServiceView BuildService(string name, ImmutableArray<ContainerRecord> containers)
    {
        var stats = containers.Select(c => _stats.GetValueOrDefault(c.Id)).Where(s => s is not null).ToList();
        var combined = stats.Count == 0
            ? null
            : new ContainerStats(stats.Sum(s => s!.CpuPercent), stats.Sum(s => s!.MemoryBytes), stats.Max(s => s!.MemoryLimitBytes));
        var volumes = containers.SelectMany(c => c.Mounts).Where(m => m.VolumeName is not null)
            .Select(m => m.VolumeName!).Distinct().Order(StringComparer.Ordinal).Select(VolumeOf).ToImmutableArray();
        var dependsOn = containers.Select(c => c.Labels.GetValueOrDefault(ContainerRecord.DependsOnLabel))
            .Where(l => !string.IsNullOrEmpty(l))
            .SelectMany(ParseDependsOn)
            .Distinct()
            .ToImmutableArray();
        return new ServiceView(name, _options.LayerOf(name), containers, _probes.GetValueOrDefault(name), combined, volumes, dependsOn);
    }

    private VolumeView VolumeOf(string name) => new(name, _volumeSizes.GetValueOrDefault(name));

    /// <summary>Compose writes <c>service:condition:restart</c> items separated by commas.</summary>
    public static IEnumerable<string> ParseDependsOn(string? label) =>
        (label ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(item => item.Split(':')[0])
            .Where(s => s.Length > 0);

    private sealed class Unwatch(StackSnapshot owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._watchers);
            }
        }
    }
}
