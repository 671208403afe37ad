using GrafanaPanel.Web.Docker;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace GrafanaPanel.Web.Tests;

/// <summary>
/// One bunit setup for every component test: MudBlazor with no transitions, loose JS interop, and the
/// project's own services replaced by small fakes. Disposed asynchronously (MudBlazor's popover service
/// is only IAsyncDisposable): xunit v3 calls a test class's DisposeAsync, which BunitContext has.
/// </summary>
public abstract class PanelTestContext : BunitContext
{
    protected PanelTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.ShowTransitionDuration = 0;
            options.SnackbarConfiguration.HideTransitionDuration = 0;
            options.PopoverOptions.ThrowOnDuplicateProvider = false;
        });
        Services.AddSingleton(Engine);
        Services.AddSingleton<IDockerEngine>(Engine);
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<EngineStatus>();
    }

    protected FakeDockerEngine Engine { get; } = new();

    /// <summary>Render as an interactive server circuit would (call after all services are added).</summary>
    protected void UseInteractiveServerRenderer() =>
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));

    /// <summary>
    /// MudBlazor's axis charts draw their lines once the browser has measured the axis labels (mudGetSvgBBox);
    /// answer that measurement as a browser would.
    /// </summary>
    protected void MeasureChartLabels() =>
        JSInterop.Setup<MudBlazor.Interop.ElementSize>("mudGetSvgBBox", _ => true)
            .SetResult(new MudBlazor.Interop.ElementSize { Width = 48, Height = 14 });

    /// <summary>A chart that fills its width redraws for new data once the browser has reported its size; report it.</summary>
    protected static void ReportChartSizes(IRenderedComponent<Microsoft.AspNetCore.Components.IComponent> page)
    {
        foreach (var chart in page.FindComponents<MudBlazor.Charts.TimeSeries<double>>())
        {
            chart.InvokeAsync(() => chart.Instance.OnElementSizeChanged(new MudBlazor.Interop.ElementSize { Width = 900, Height = 240, Timestamp = 1 }));
        }
    }
}

/// <summary>A Docker engine that answers what the test says and records what it was asked to do.</summary>
public sealed class FakeDockerEngine : IDockerEngine
{
    public string Endpoint { get; set; } = "unix:///var/run/docker.sock";

    public EngineInfo? Info { get; set; } = new("20.10.24", "1.41", "linux/amd64");

    public List<ContainerRecord> Containers { get; } = [];

    public List<VolumeUsage> Volumes { get; } = [];

    public List<string> Calls { get; } = [];

    public System.Threading.Channels.Channel<EngineEvent> Events { get; } = System.Threading.Channels.Channel.CreateUnbounded<EngineEvent>();

    public Dictionary<string, List<LogLine>> Logs { get; } = [];

    private Exception Unreachable() => new DockerUnavailableException(Endpoint, "connection refused");

    public Task<EngineInfo> GetInfoAsync(CancellationToken ct) =>
        Info is null ? Task.FromException<EngineInfo>(Unreachable()) : Task.FromResult(Info);

    public Task<IReadOnlyList<ContainerRecord>> ListContainersAsync(string project, CancellationToken ct) =>
        Info is null
            ? Task.FromException<IReadOnlyList<ContainerRecord>>(Unreachable())
            : Task.FromResult<IReadOnlyList<ContainerRecord>>(Containers.Where(c => c.Project == project).ToList());

    public Task<ContainerRecord?> InspectContainerAsync(string id, CancellationToken ct) =>
        Task.FromResult(Containers.FirstOrDefault(c => c.Id == id));

    public Task StartContainerAsync(string id, CancellationToken ct) => Record($"start {id}");

    public Task StopContainerAsync(string id, TimeSpan grace, CancellationToken ct) => Record($"stop {id}");

    public Task RestartContainerAsync(string id, TimeSpan grace, CancellationToken ct) => Record($"restart {id}");

    public IAsyncEnumerable<EngineEvent> WatchEventsAsync(string project, CancellationToken ct) => Events.Reader.ReadAllAsync(ct);

    public Task<IReadOnlyList<VolumeUsage>> GetVolumeUsageAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<VolumeUsage>>(Volumes.ToList());

    public Task<ContainerStats> GetStatsAsync(string id, CancellationToken ct) =>
        Task.FromResult(new ContainerStats(12.5, 64 * 1024 * 1024, 512 * 1024 * 1024));

    /// <summary>Lines a follow (tail 0) of a container receives as the test writes them; without one, a follow ends at once.</summary>
    public Dictionary<string, System.Threading.Channels.Channel<LogLine>> LiveLogs { get; } = [];

    public async IAsyncEnumerable<LogLine> ReadLogsAsync(string id, int tail, bool follow, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (follow && LiveLogs.TryGetValue(id, out var live))
        {
            await foreach (var line in live.Reader.ReadAllAsync(ct))
            {
                yield return line;
            }

            yield break;
        }

        foreach (var line in Logs.GetValueOrDefault(id, []).TakeLast(tail))
        {
            await Task.Yield();
            yield return line;
        }
    }

    public Task PauseContainerAsync(string id, CancellationToken ct) => Record($"pause {id}");

    public Task UnpauseContainerAsync(string id, CancellationToken ct) => Record($"unpause {id}");

    public Task RemoveContainerAsync(string id, CancellationToken ct) => Record($"remove {id}");

    public Task<long> WaitContainerAsync(string id, TimeSpan limit, CancellationToken ct) => Task.FromResult(0L);

    // The backup engine is tested against a real daemon (integration tests); UI tests never reach these.
    public Task<string> CreateHelperContainerAsync(HelperContainerSpec spec, CancellationToken ct) => throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListHelperContainersAsync(string project, CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);

    public Task<Stream> GetArchiveAsync(string id, string path, CancellationToken ct) => throw new NotSupportedException();

    public Task PutArchiveAsync(string id, string path, Stream tar, CancellationToken ct) => throw new NotSupportedException();

    public Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(string project, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<VolumeRecord>>(Volumes.Select(v => new VolumeRecord(v.Name, v.Labels)).ToList());

    public Task<bool> VolumeExistsAsync(string name, CancellationToken ct) => Task.FromResult(Volumes.Any(v => v.Name == name));

    public Task<VolumeRecord?> InspectVolumeAsync(string name, CancellationToken ct) =>
        Task.FromResult(Volumes.FirstOrDefault(v => v.Name == name) is { } v ? new VolumeRecord(v.Name, v.Labels) : null);

    public Task CreateVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken ct) => Record($"create volume {name}");

    public Task RemoveVolumeAsync(string name, CancellationToken ct) => Record($"remove volume {name}");

    private Task Record(string call)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }

        return Task.CompletedTask;
    }
}
