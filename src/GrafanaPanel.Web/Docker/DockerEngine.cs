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
