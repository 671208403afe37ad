using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// A unix socket in front of the real daemon's: it passes every byte both ways unchanged and keeps the request line
/// ("GET /containers/json?all=true") of each request a client sends, so a test sees which API paths the client uses.
/// </summary>
public sealed partial class DockerSocketRecorder : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("gp-docker-recorder-").FullName;
    private readonly string _daemonSocket;
    private Task _accepting = Task.CompletedTask;

    private DockerSocketRecorder(string daemonSocket) => _daemonSocket = daemonSocket;

    public string Endpoint => $"unix://{SocketPath}";

    private string SocketPath => Path.Combine(_directory, "docker.sock");

    /// <summary>Method and path of every request so far, in the order they were sent.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public static DockerSocketRecorder Start(string daemonSocket = "/var/run/docker.sock")
    {
        var recorder = new DockerSocketRecorder(daemonSocket);
        recorder._listener.Bind(new UnixDomainSocketEndPoint(recorder.SocketPath));
        recorder._listener.Listen(64);
        recorder._accepting = recorder.AcceptAsync();
        return recorder;
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync(_stop.Token);
                connections.Add(RelayAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task RelayAsync(Socket client)
    {
        using (client)
        using (var daemon = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await daemon.ConnectAsync(new UnixDomainSocketEndPoint(_daemonSocket), _stop.Token);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var toDaemon = CopyAsync(client, daemon, record: true, done.Token);
            var toClient = CopyAsync(daemon, client, record: false, done.Token);
            // A hijacked or streamed connection ends when either side closes: close the other one too.
            await Task.WhenAny(toDaemon, toClient);
            await done.CancelAsync();
            await Task.WhenAll(toDaemon, toClient);
        }
    }

    private async Task CopyAsync(Socket from, Socket to, bool record, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var line = new StringBuilder();
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (read == 0)
                {
                    return;
                }

                if (record)
                {
                    RecordRequestLines(buffer.AsSpan(0, read), line);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    // Request lines among everything the client sends (bodies included: a tar never holds "GET /x HTTP/1.1\r\n").
    private void RecordRequestLines(ReadOnlySpan<byte> data, StringBuilder line)
    {
        foreach (var b in data)
        {
            if (b == (byte)'\n')
            {
                if (RequestLine().Match(line.ToString()) is { Success: true } match)
                {
                    _requests.Enqueue($"{match.Groups[1].Value} {match.Groups[2].Value}");
                }

                line.Clear();
            }
            else if (line.Length < 4096)
            {
                line.Append((char)b);
            }
        }
    }

    [GeneratedRegex(@"^(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP/1\.[01]\r$")]
    private static partial Regex RequestLine();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        _stop.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
