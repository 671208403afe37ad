using System.Net;
using Docker.DotNet;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Docker;

/// <summary>The one class that talks to Docker.DotNet. Unversioned API paths keep it working with older daemons.</summary>
public sealed class DockerEngine : IDockerEngine, IDisposable
{
    private readonly DockerClient _client;
    private readonly DockerOptions _options;

    public DockerEngine(IOptions<DockerOptions> options)
    {
        _options = options.Value;
        // Docker.DotNet wants unix:/// paths as-is and tcp:// as http://.
        var uri = new Uri(_options.Endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase)
            ? "http://" + _options.Endpoint["tcp://".Length..]
            : _options.Endpoint);
        _client = new DockerClientConfiguration(uri, defaultTimeout: Timeout.InfiniteTimeSpan).CreateClient();
    }

    public string Endpoint => _options.Endpoint;

    public Task<EngineInfo> GetInfoAsync(CancellationToken ct) =>
        CallAsync("reading the engine version", async token =>
        {
            var version = await _client.System.GetVersionAsync(token);
            return new EngineInfo(version.Version, version.APIVersion, $"{version.Os}/{version.Arch}");
        }, ct);

    // Replaced by the implementation on the feature/docker-engine branch before this lands.
    public Task<IReadOnlyList<ContainerRecord>> ListContainersAsync(string project, CancellationToken ct) => throw Pending();

    public Task<ContainerRecord?> InspectContainerAsync(string id, CancellationToken ct) => throw Pending();

    public Task StartContainerAsync(string id, CancellationToken ct) => throw Pending();

    public Task StopContainerAsync(string id, TimeSpan grace, CancellationToken ct) => throw Pending();

    public Task RestartContainerAsync(string id, TimeSpan grace, CancellationToken ct) => throw Pending();

    public IAsyncEnumerable<EngineEvent> WatchEventsAsync(string project, CancellationToken ct) => throw Pending();

    public Task<IReadOnlyList<VolumeUsage>> GetVolumeUsageAsync(CancellationToken ct) => throw Pending();

    public Task<ContainerStats> GetStatsAsync(string id, CancellationToken ct) => throw Pending();

    public IAsyncEnumerable<LogLine> ReadLogsAsync(string id, int tail, bool follow, CancellationToken ct) => throw Pending();

    private static DockerOperationException Pending() => new("This engine operation is being written on a branch.");

    /// <summary>Runs one daemon call with the configured timeout and maps failures to the project's errors.</summary>
    private async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return await call(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new DockerUnavailableException(Endpoint, $"no answer within {_options.RequestTimeout.TotalSeconds:0} s while {what}");
        }
        catch (DockerApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new DockerNotFoundException(what, ex);
        }
        catch (DockerApiException ex)
        {
            throw new DockerOperationException(DaemonMessage(ex), ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new DockerUnavailableException(Endpoint, ex.GetBaseException().Message, ex);
        }
    }

    private static string DaemonMessage(DockerApiException ex)
    {
        // The daemon answers {"message":"..."}; show that rather than the client's wrapper text.
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(ex.ResponseBody);
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

    public void Dispose() => _client.Dispose();
}
