using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet;

namespace GrafanaPanel.Web.Docker;

/// <summary>
/// Reads <c>GET /system/df</c> over the engine's own endpoint. Docker.DotNet has no method for it that works
/// against the API 1.41 daemons this portal meets, so this one request is made by hand.
/// </summary>
internal sealed class DiskUsageReader : IDisposable
{
    private readonly HttpClient _http;

    public DiskUsageReader(Uri endpoint)
    {
        var handler = new SocketsHttpHandler();
        Uri baseAddress;
        if (endpoint.Scheme == "unix")
        {
            var socketPath = endpoint.LocalPath;
            handler.ConnectCallback = (_, ct) => ConnectUnixAsync(socketPath, ct);
            baseAddress = new Uri("http://docker/");
        }
        else
        {
            baseAddress = new UriBuilder("http", endpoint.Host, endpoint.Port).Uri;
        }

        // The caller bounds every request with its own token.
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Failures come out as Docker.DotNet's own exceptions, so the engine maps them like every other call.</summary>
    public async Task<IReadOnlyList<VolumeUsage>> ReadVolumesAsync(CancellationToken ct)
    {
        // Unversioned path: asking a 20.10 daemon for a newer API fails. "type=volume" spares newer daemons from
        // sizing images and containers; older ones ignore it.
        using var response = await _http.GetAsync("system/df?type=volume", HttpCompletionOption.ResponseHeadersRead, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new DockerApiException(response.StatusCode, body);
        }

        try
        {
            return ParseVolumes(body);
        }
        catch (JsonException ex)
        {
            throw new DockerOperationException($"The daemon's disk-usage answer could not be read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Both shapes: API ≤ 1.51 lists volumes at the top level (<c>"Volumes": [...]</c>); newer daemons nest them
    /// (<c>"VolumesDiskUsage": {"Items": [...]}</c>). A size or reference count of -1 means "not known".
    /// </summary>
    internal static IReadOnlyList<VolumeUsage> ParseVolumes(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!TryGetArray(root, "Volumes", out var volumes)
            && !(root.TryGetProperty("VolumesDiskUsage", out var nested) && TryGetArray(nested, "Items", out volumes)))
        {
            return [];
        }

        var result = new List<VolumeUsage>();
        foreach (var volume in volumes.EnumerateArray())
        {
            if (!volume.TryGetProperty("Name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            long? size = null;
            long? refCount = null;
            if (volume.TryGetProperty("UsageData", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                size = Known(usage, "Size");
                refCount = Known(usage, "RefCount");
            }

            result.Add(new VolumeUsage(name.GetString()!, size, refCount, ReadLabels(volume)));
        }

        return result;
    }

    private static bool TryGetArray(JsonElement element, string name, out JsonElement array)
    {
        array = default;
        return element.ValueKind == JsonValueKind.Object
            && element.TryGetProperty(name, out array)
            && array.ValueKind == JsonValueKind.Array;
    }

    private static long? Known(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= 0
            ? number
            : null;

    private static Dictionary<string, string> ReadLabels(JsonElement volume)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (volume.TryGetProperty("Labels", out var element) && element.ValueKind == JsonValueKind.Object)
        {
            foreach (var label in element.EnumerateObject())
            {
                labels[label.Name] = label.Value.ValueKind == JsonValueKind.String ? label.Value.GetString()! : label.Value.GetRawText();
            }
        }

        return labels;
    }

    private static async ValueTask<Stream> ConnectUnixAsync(string socketPath, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();
}
