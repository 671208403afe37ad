using System.Runtime.CompilerServices;
using System.Threading.Channels;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>A log line with the service it came from.</summary>
public sealed record ServiceLogLine(string Service, DateTimeOffset Timestamp, LogStream Stream, string Text);

/// <summary>
/// Reads service logs for the log views and downloads. Services are resolved by exact name against the
/// snapshot; nothing from a request reaches the daemon except ids the snapshot holds.
/// </summary>
public sealed class StackLogs(IDockerEngine engine, StackSnapshot snapshot)
{
    public const int MaxTail = 5000;

    private const int RefollowTail = 1000;
    private static readonly TimeSpan RefollowDelay = TimeSpan.FromSeconds(2);

    /// <summary>The last <paramref name="tail"/> lines of the given services (all when empty), merged by time, then new lines when following.</summary>
    public async IAsyncEnumerable<ServiceLogLine> ReadAsync(
        IReadOnlyCollection<string> services, int tail, bool follow, [EnumeratorCancellation] CancellationToken ct)
    {
        tail = Math.Clamp(tail, 1, MaxTail);
        var targets = Resolve(services);

        // History: read each service's tail, then merge by timestamp so the stack-wide view reads in order.
        var history = new List<ServiceLogLine>();
        foreach (var (service, container) in targets)
        {
            await foreach (var line in engine.ReadLogsAsync(container.Id, tail, follow: false, ct))
            {
                history.Add(new ServiceLogLine(service, line.Timestamp, line.Stream, line.Text));
            }
        }

        foreach (var line in history.OrderBy(l => l.Timestamp).TakeLast(tail))
        {
            yield return line;
        }

        if (!follow)
        {
            yield break;
        }

        var since = history.Count == 0 ? DateTimeOffset.MinValue : history.Max(l => l.Timestamp);
        var live = Channel.CreateBounded<ServiceLogLine>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var readers = targets.Select(t => PumpAsync(t.Service, t.Container, since, live.Writer, stop.Token)).ToList();
        _ = Task.WhenAll(readers).ContinueWith(_ => live.Writer.TryComplete(), TaskScheduler.Default);
        try
        {
            await foreach (var line in live.Reader.ReadAllAsync(ct))
            {
                yield return line;
            }
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    /// <summary>
    /// Follows one container until cancelled. When the stream ends (the container stopped, or the daemon went away and
    /// came back), it follows again and catches up from the last line it delivered, so an open page keeps going.
    /// </summary>
    private async Task PumpAsync(string service, ContainerRecord container, DateTimeOffset since, ChannelWriter<ServiceLogLine> writer, CancellationToken ct)
    {
        var tail = 0;
        var lostNotice = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // tail 0: only what is written from now on; after a gap, the recent lines filtered by time fill it.
                await foreach (var line in engine.ReadLogsAsync(container.Id, tail, follow: true, ct))
                {
                    lostNotice = false;
                    if (line.Timestamp > since)
                    {
                        since = line.Timestamp;
                        await writer.WriteAsync(new ServiceLogLine(service, line.Timestamp, line.Stream, line.Text), ct);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is DockerUnavailableException or DockerNotFoundException or DockerOperationException)
            {
                if (!lostNotice)
                {
                    lostNotice = true;
                    await writer.WriteAsync(new ServiceLogLine(service, DateTimeOffset.UtcNow, LogStream.Stderr,
                        $"[GrafanaPanel] following {service} paused: {ex.Message} Reconnecting…"), ct);
                }
            }

            tail = RefollowTail;
            try
            {
                await Task.Delay(RefollowDelay, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private List<(string Service, ContainerRecord Container)> Resolve(IReadOnlyCollection<string> services)
    {
        var view = snapshot.Current;
        var chosen = services.Count == 0 ? view.Services.ToList() : services.Select(name => view.Find(name)
            ?? throw new StackActionRefusedException($"There is no service named '{name}' in the stack {view.Project}.")).ToList();
        return chosen.SelectMany(s => s.Containers.Select(c => (s.Name, c))).ToList();
    }
}
