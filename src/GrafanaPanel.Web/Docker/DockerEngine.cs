using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Docker;

/// <summary>
/// The one class that talks to Docker.DotNet (the maintained fork, package Docker.DotNet.Enhanced). The client is
/// built without an API version: unversioned paths keep it working with older daemons (20.10 answers 1.41 and refuses
/// every call that asks for more).
/// </summary>
public sealed partial class DockerEngine : IDockerEngine, IDisposable
{
    // A few inspects at a time keep a list of a couple of hundred containers quick without flooding the daemon.
    private const int InspectParallelism = 8;

    private readonly DockerClient _client;
    private readonly DiskUsageReader _diskUsage;
    private readonly DockerOptions _options;
    private readonly ILogger<DockerEngine> _logger;

    public DockerEngine(IOptions<DockerOptions> options, ILogger<DockerEngine>? logger = null)
    {
        _options = options.Value;
        _logger = logger ?? NullLogger<DockerEngine>.Instance;
        // unix:/// paths as-is and tcp:// as http:// (the disk-usage reader below speaks plain HTTP to it).
        var uri = new Uri(_options.Endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase)
            ? "http://" + _options.Endpoint["tcp://".Length..]
            : _options.Endpoint);
        // The endpoint is always explicit (never DOCKER_HOST or a docker context), and every call is bounded by
        // CallAsync's own limit rather than the client's 100-second default.
        _client = new DockerClientBuilder().WithEndpoint(uri).WithTimeout(Timeout.InfiniteTimeSpan).Build();
        _diskUsage = new DiskUsageReader(uri);
    }

    public string Endpoint => _options.Endpoint;

    public Task<EngineInfo> GetInfoAsync(CancellationToken ct) =>
        CallAsync("reading the engine version", "The engine version", async token =>
        {
            var version = await _client.System.GetVersionAsync(token);
            return new EngineInfo(version.Version, version.APIVersion, $"{version.Os}/{version.Arch}");
        }, ct);

    public async Task<IReadOnlyList<ContainerRecord>> ListContainersAsync(string project, CancellationToken ct)
    {
        var listed = await CallAsync($"listing the containers of project {project}", $"Project {project}",
            token => _client.Containers.ListContainersAsync(
                new ContainersListParameters { All = true, Filters = Filter("label", $"{ContainerRecord.ProjectLabel}={project}") },
                token),
            ct);

        var records = new ContainerRecord?[listed.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, listed.Count),
            new ParallelOptions { MaxDegreeOfParallelism = InspectParallelism, CancellationToken = ct },
            async (i, token) =>
            {
                var inspected = await TryInspectAsync(listed[i].ID, token);
                if (inspected is null)
                {
                    // Removed between the list and the inspect: it is simply no longer part of the stack.
                    DockerLog.ContainerVanished(_logger, listed[i].ID, project);
                    return;
                }

                records[i] = ContainerMapping.ToRecord(inspected, listed[i].Status);
            });

        return records.OfType<ContainerRecord>().ToList();
    }

    public async Task<ContainerRecord?> InspectContainerAsync(string id, CancellationToken ct)
    {
        if (!IsContainerReference(id))
        {
            return null;
        }

        var inspected = await TryInspectAsync(id, ct);
        if (inspected is null)
        {
            return null;
        }

        // Inspect has no "Up 5 minutes (healthy)" text; the list has it, asked for this one id.
        var listed = await CallAsync($"reading the status of container {id}", ContainerSubject(id),
            token => _client.Containers.ListContainersAsync(
                new ContainersListParameters { All = true, Filters = Filter("id", inspected.ID) }, token),
            ct);
        return ContainerMapping.ToRecord(inspected, listed.FirstOrDefault(c => c.ID == inspected.ID)?.Status);
    }

    // Starting a running container or stopping a stopped one is answered 304, which Docker.DotNet returns as false:
    // the container is where it was asked to be, so that is no error.
    public async Task StartContainerAsync(string id, CancellationToken ct)
    {
        RequireContainerReference(id);
        await CallAsync($"starting container {id}", ContainerSubject(id),
            token => _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), token), ct);
    }

    // The daemon waits up to the grace period before it kills, so the call may take that long on top of the usual.
    public async Task StopContainerAsync(string id, TimeSpan grace, CancellationToken ct)
    {
        RequireContainerReference(id);
        await CallAsync($"stopping container {id}", ContainerSubject(id), _options.RequestTimeout + grace,
            token => _client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = GraceSeconds(grace) }, token),
            ct);
    }

    public async Task RestartContainerAsync(string id, TimeSpan grace, CancellationToken ct)
    {
        RequireContainerReference(id);
        await CallAsync($"restarting container {id}", ContainerSubject(id), _options.RequestTimeout + grace,
            async token =>
            {
                await _client.Containers.RestartContainerAsync(id, new ContainerRestartParameters { WaitBeforeKillSeconds = GraceSeconds(grace) }, token);
                return true;
            },
            ct);
    }

    public async Task PauseContainerAsync(string id, CancellationToken ct)
    {
        RequireContainerReference(id);
        await CallAsync($"pausing container {id}", ContainerSubject(id), async token =>
        {
            await _client.Containers.PauseContainerAsync(id, token);
            return true;
        }, ct);
    }

    public async Task UnpauseContainerAsync(string id, CancellationToken ct)
    {
        RequireContainerReference(id);
        await CallAsync($"unpausing container {id}", ContainerSubject(id), async token =>
        {
            await _client.Containers.UnpauseContainerAsync(id, token);
            return true;
        }, ct);
    }

    public async Task RemoveContainerAsync(string id, CancellationToken ct)
    {
        RequireContainerReference(id);
        try
        {
            await CallAsync($"removing container {id}", ContainerSubject(id), async token =>
            {
                await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, token);
                return true;
            }, ct);
        }
        catch (DockerNotFoundException)
        {
            // Already gone: that is what was asked for.
        }
    }

    public async Task<long> WaitContainerAsync(string id, TimeSpan limit, CancellationToken ct)
    {
        RequireContainerReference(id);
        var response = await CallAsync($"waiting for container {id} to exit", ContainerSubject(id), limit,
            token => _client.Containers.WaitContainerAsync(id, token), ct);
        return response.StatusCode;
    }

    public async Task<string> CreateHelperContainerAsync(HelperContainerSpec spec, CancellationToken ct)
    {
        var body = HelperContainerBody.Build(spec);
        // Before the create: a missing volume would be created by it, and a portal volume is never mounted at all.
        await CheckHelperVolumesAsync(spec, ct);
        var created = await CallAsync("creating a helper container", $"Image {spec.Image}",
            token => _client.Containers.CreateContainerAsync(body, token), ct);

        // What the daemon made of the body is what counts: inspect it and remove it at once if anything else crept in.
        try
        {
            var inspected = await CallAsync($"inspecting helper container {created.ID}", ContainerSubject(created.ID),
                token => _client.Containers.InspectContainerAsync(created.ID, token), ct);
            CheckCreatedHelper(inspected, spec);
            // Again now that the container references the volumes: none can be removed and made anew in between.
            await CheckHelperVolumesAsync(spec, ct);
        }
        catch
        {
            await RemoveContainerAsync(created.ID, CancellationToken.None);
            throw;
        }

        return created.ID;
    }

    public async Task<IReadOnlyList<string>> ListHelperContainersAsync(string project, CancellationToken ct)
    {
        var labels = new Dictionary<string, bool> { [$"{HelperContainerBody.HelperLabel}=true"] = true, [$"{ContainerRecord.ProjectLabel}={project}"] = true };
        var listed = await CallAsync("listing helper containers", "Helper containers",
            token => _client.Containers.ListContainersAsync(
                new ContainersListParameters { All = true, Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels } }, token),
            ct);
        return listed.Select(c => c.ID).ToList();
    }

    public async Task<Stream> GetArchiveAsync(string id, string path, CancellationToken ct)
    {
        RequireContainerReference(id);
        var response = await CallAsync($"reading {path} of container {id}", $"{path} in container {id}",
            token => _client.Containers.GetArchiveFromContainerAsync(id, new ContainerPathStatParameters { Path = path }, statOnly: false, token),
            ct);
        // Asked with statOnly: false, the daemon's answer always has the tar; a missing one is a client fault worth naming.
        var tar = response.Stream ?? throw new DockerOperationException($"The daemon sent no archive of {path} in container {id}.");
        return new TranslatingStream(tar, ex => Translate(ex, $"{path} in container {id}"));
    }

    // The upload runs as long as the tar is big; only the caller's token bounds it.
    public async Task PutArchiveAsync(string id, string path, Stream tar, CancellationToken ct)
    {
        RequireContainerReference(id);
        await CallAsync($"extracting an archive into {path} of container {id}", $"{path} in container {id}", Timeout.InfiniteTimeSpan,
            async token =>
            {
                // The client disposes what it uploads; the caller owns the tar (and may read on to its end).
                await using var body = new TranslatingStream(tar, _ => null, leaveOpen: true);
                await _client.Containers.ExtractArchiveToContainerAsync(id, new CopyToContainerParameters { Path = path, AllowOverwriteDirWithFile = false }, body, token);
                return true;
            }, ct);
    }

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

    private Task<T> CallAsync<T>(
        string what, string subject, Func<CancellationToken, Task<T>> call, CancellationToken ct, [CallerMemberName] string operation = "") =>
        CallAsync(what, subject, _options.RequestTimeout, call, ct, operation);

    /// <summary>
    /// Runs one daemon call within <paramref name="limit"/> and maps failures to the project's errors; each call is a
    /// span and a measurement named for the engine method that made it (<paramref name="operation"/>).
    /// </summary>
    private async Task<T> CallAsync<T>(
        string what, string subject, TimeSpan limit, Func<CancellationToken, Task<T>> call, CancellationToken ct,
        [CallerMemberName] string operation = "")
    {
        using var telemetry = DockerCallTelemetry.Start(operation, subject);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(limit);
        try
        {
            var result = await call(timeout.Token);
            telemetry.Succeeded();
            return result;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var unavailable = new DockerUnavailableException(Endpoint, $"no answer within {limit.TotalSeconds:0} s while {what}");
            telemetry.Failed(unavailable);
            throw unavailable;
        }
        catch (Exception ex) when (Translate(ex, subject) is { } mapped)
        {
            telemetry.Failed(mapped);
            throw mapped;
        }
        catch (Exception ex)
        {
            telemetry.Failed(ex);
            throw;
        }
    }

    /// <summary>The project's error for a client failure, or null for anything that is not the daemon's doing.</summary>
    private Exception? Translate(Exception ex, string subject) => ex switch
    {
        DockerApiException { StatusCode: HttpStatusCode.NotFound } api => new DockerNotFoundException(subject, api),
        DockerApiException api => new DockerOperationException(DaemonMessage(api), api),
        HttpRequestException or IOException or SocketException or TimeoutException =>
            new DockerUnavailableException(Endpoint, ex.GetBaseException().Message, ex),
        _ => null,
    };

    private static string DaemonMessage(DockerApiException ex)
    {
        // The daemon answers {"message":"..."}; show that rather than the client's wrapper text.
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(ex.ResponseBody ?? "");
            if (doc.RootElement.TryGetProperty("message", out var message))
            {
                return message.GetString() ?? ex.Message;
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return string.IsNullOrWhiteSpace(ex.ResponseBody) ? ex.Message : ex.ResponseBody.Trim();
    }

    private static Dictionary<string, IDictionary<string, bool>> Filter(string key, string value) =>
        new() { [key] = new Dictionary<string, bool> { [value] = true } };

    // Docker.DotNet leaves a zero out of the query string (it treats it as "not set"), and the daemon then waits its own
    // default of 10 s: the shortest grace period sent is therefore one second.
    private static uint GraceSeconds(TimeSpan grace) => (uint)Math.Max(1, Math.Ceiling(grace.TotalSeconds));

    private static string ContainerSubject(string id) => $"Container {id}";

    /// <summary>
    /// Docker names and ids are <c>[a-zA-Z0-9][a-zA-Z0-9_.-]*</c>. Anything else (a path, "..", NUL, a newline) cannot
    /// name a container and is never put into a request path.
    /// </summary>
    private static bool IsContainerReference(string? id) => id is not null && ContainerReferencePattern().IsMatch(id);

    private static void RequireContainerReference(string id)
    {
        if (!IsContainerReference(id))
        {
            throw new DockerNotFoundException(ContainerSubject(id));
        }
    }

    [GeneratedRegex(@"\A[a-zA-Z0-9][a-zA-Z0-9_.-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerReferencePattern();

    public void Dispose()
    {
        _client.Dispose();
        _diskUsage.Dispose();
    }
}
