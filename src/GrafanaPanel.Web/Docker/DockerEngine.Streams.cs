using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace GrafanaPanel.Web.Docker;

/// <summary>What the engine streams: events, stats samples and container logs.</summary>
public sealed partial class DockerEngine
{
    public async IAsyncEnumerable<EngineEvent> WatchEventsAsync(string project, [EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateUnbounded<EngineEvent>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pump = PumpEventsAsync(project, channel.Writer, stop.Token);
        try
        {
            // The channel is completed with the reason the stream ended; reading it rethrows that reason here.
            await foreach (var engineEvent in channel.Reader.ReadAllAsync(ct))
            {
                yield return engineEvent;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pump;
        }
    }

    public Task<IReadOnlyList<VolumeUsage>> GetVolumeUsageAsync(CancellationToken ct) =>
        CallAsync("measuring volume sizes (/system/df)", "The disk-usage endpoint", _options.DiskUsageTimeout,
            _diskUsage.ReadVolumesAsync, ct);

    public async Task<ContainerStats> GetStatsAsync(string id, CancellationToken ct)
    {
        RequireContainerReference(id);
        // Without one-shot, a 1.41 daemon waits for a second reading and sends the first as precpu_stats, so one
        // request gives a CPU delta over about a second, as `docker stats --no-stream` shows it.
        var sample = await SampleStatsAsync(id, ct);
        if (sample.CPUStats is not { SystemUsage: > 0 })
        {
            // A container that is not running gets an empty sample; a second one would be empty too.
            return new ContainerStats(0, 0, null);
        }

        if (StatsCalculation.HasPreviousReading(sample))
        {
            return ToStats(sample.PreCPUStats, sample);
        }

        // A daemon that leaves precpu_stats empty (or a container that just started): a second sample of our own
        // gives the delta instead of reporting a percentage computed from nothing.
        DockerLog.StatsSecondSample(_logger, id);
        var second = await SampleStatsAsync(id, ct);
        return ToStats(sample.CPUStats, second);
    }

    public async IAsyncEnumerable<LogLine> ReadLogsAsync(string id, int tail, bool follow, [EnumeratorCancellation] CancellationToken ct)
    {
        RequireContainerReference(id);
        // The client inspects the container first: a TTY container's output is one raw stream, any other is
        // multiplexed in frames that say stdout or stderr. A missing container is answered 404 (DockerNotFoundException).
        var parameters = new ContainerLogsParameters
        {
            ShowStdout = true,
            ShowStderr = true,
            Timestamps = true,
            Follow = follow,
            Tail = tail < 0 ? "all" : tail.ToString(CultureInfo.InvariantCulture),
        };

        using var stream = await CallAsync($"opening the logs of container {id}", ContainerSubject(id),
            token => _client.Containers.GetContainerLogsAsync(id, parameters, token), ct);
        // A read that waits for the next line does not always notice the token; closing the stream ends it at once.
        await using var closeOnCancel = ct.Register(stream.Dispose);

        var decoder = new LogLineDecoder();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var (count, target, eof) = await ReadLogChunkAsync(stream, buffer, id, ct);
            if (eof)
            {
                break;
            }

            foreach (var line in decoder.Push(target == MultiplexedStream.TargetStream.StandardError ? LogStream.Stderr : LogStream.Stdout, buffer, count))
            {
                yield return line;
            }
        }

        foreach (var line in decoder.Flush())
        {
            yield return line;
        }

        if (follow)
        {
            // The daemon ends a followed log when the container stops, and also when the daemon itself goes away;
            // a ping tells the two apart so a lost daemon surfaces as DockerUnavailableException.
            await CallAsync("checking the engine after a log stream ended", "The engine", async token =>
            {
                await _client.System.PingAsync(token);
                return true;
            }, ct);
        }
    }

    /// <summary>
    /// Runs the two event subscriptions into <paramref name="writer"/> and completes it with why they ended: nothing
    /// when the caller cancelled, otherwise a <see cref="DockerUnavailableException"/> (or the daemon's refusal).
    /// </summary>
    private async Task PumpEventsAsync(string project, ChannelWriter<EngineEvent> writer, CancellationToken ct)
    {
        using var siblings = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Volume and network events carry no labels (Docker 20.10 sends only driver/name/type), so a label filter
        // on the daemon would drop them all. Container events are filtered by label on the daemon; volumes and
        // networks are matched here on compose's "<project>_" names.
        Task<Exception>[] streams =
        [
            FollowEventsAsync(
                new ContainerEventsParameters
                {
                    Filters = new Dictionary<string, IDictionary<string, bool>>
                    {
                        ["type"] = new Dictionary<string, bool> { ["container"] = true },
                        ["label"] = new Dictionary<string, bool> { [$"{ContainerRecord.ProjectLabel}={project}"] = true },
                    },
                },
                // Every health check runs as an exec (three events per check per container); the health_status
                // event is what the stack cares about.
                e => !e.Action.StartsWith("exec_", StringComparison.Ordinal),
                writer, siblings.Token),
            FollowEventsAsync(
                new ContainerEventsParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["type"] = new Dictionary<string, bool> { ["volume"] = true, ["network"] = true } } },
                e => IsNamedForProject(e, project),
                writer, siblings.Token),
        ];

        var first = await Task.WhenAny(streams);
        // Whichever subscription ends first ends the watch; the other one stops with it.
        await siblings.CancelAsync();
        await ((Task)Task.WhenAll(streams)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        if (ct.IsCancellationRequested)
        {
            writer.TryComplete();
            return;
        }

        var ending = first.IsFaulted ? first.Exception!.GetBaseException() : first.Result;
        DockerLog.EventStreamEnded(_logger, Endpoint, ending.Message);
        writer.TryComplete(ending);
    }

    /// <summary>Follows one event subscription until it ends; returns why it ended instead of throwing.</summary>
    private async Task<Exception> FollowEventsAsync(
        ContainerEventsParameters query, Func<EngineEvent, bool> keep, ChannelWriter<EngineEvent> writer, CancellationToken ct)
    {
        var progress = new SyncProgress<Message>(message =>
        {
            var engineEvent = ContainerMapping.ToEvent(message);
            if (keep(engineEvent))
            {
                writer.TryWrite(engineEvent);
            }
        });

        try
        {
            await _client.System.MonitorEventsAsync(query, progress, ct);
            // The daemon never ends an event stream by itself: it went away (restarted, stopped, socket closed).
            return new DockerUnavailableException(Endpoint, "the event stream ended");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new OperationCanceledException(ct);
        }
        catch (Exception ex) when (Translate(ex, "The event stream") is { } mapped)
        {
            return mapped;
        }
    }

    private static bool IsNamedForProject(EngineEvent engineEvent, string project)
    {
        var name = engineEvent.Type == "network" ? engineEvent.Attributes.GetValueOrDefault("name") : engineEvent.ActorId;
        return name is not null && name.StartsWith(project + "_", StringComparison.Ordinal);
    }

    private async Task<ContainerInspectResponse?> TryInspectAsync(string id, CancellationToken ct)
    {
        try
        {
            return await CallAsync($"inspecting container {id}", ContainerSubject(id),
                token => _client.Containers.InspectContainerAsync(id, token), ct);
        }
        catch (DockerNotFoundException)
        {
            return null;
        }
    }

    private Task<ContainerStatsResponse> SampleStatsAsync(string id, CancellationToken ct) =>
        CallAsync($"reading the resource use of container {id}", ContainerSubject(id), async token =>
        {
            ContainerStatsResponse? sample = null;
            await _client.Containers.GetContainerStatsAsync(id, new ContainerStatsParameters { Stream = false },
                new SyncProgress<ContainerStatsResponse>(s => sample = s), token);
            return sample ?? throw new DockerOperationException($"The engine sent no statistics for container {id}.");
        }, ct);

    private static ContainerStats ToStats(CPUStats? previousCpu, ContainerStatsResponse sample) =>
        new(StatsCalculation.CpuPercent(previousCpu, sample.CPUStats),
            StatsCalculation.MemoryWithoutCache(sample.MemoryStats),
            StatsCalculation.MemoryLimit(sample.MemoryStats));

    private async Task<(int Count, MultiplexedStream.TargetStream Target, bool Eof)> ReadLogChunkAsync(
        MultiplexedStream stream, byte[] buffer, string id, CancellationToken ct)
    {
        try
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct);
            return (read.Count, read.Target, read.EOF || read.Count == 0);
        }
        catch (Exception ex) when (ct.IsCancellationRequested && ex is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The stream was closed by the cancellation registration.
            throw new OperationCanceledException(ct);
        }
        catch (Exception ex) when (Translate(ex, ContainerSubject(id)) is { } mapped)
        {
            throw mapped;
        }
    }
}
