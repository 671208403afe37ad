using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Telemetry;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>
/// The portal's own check of a service: an HTTP request or a protocol handshake to the container's address
/// on the stack network, with a timeout. Definitions come from configuration (<see cref="StackOptions.Probes"/>).
/// </summary>
public sealed class ServiceProber(IHttpClientFactory httpFactory, TimeProvider time)
{
    public const string HttpClientName = "probes";

    public async Task<ProbeResult> ProbeAsync(ContainerRecord container, ProbeDefinition probe, TimeSpan timeout, CancellationToken ct)
    {
        var address = container.NetworkAddresses.Values.FirstOrDefault(a => !string.IsNullOrEmpty(a));
        if (address is null)
        {
            return new ProbeResult(false, 0, "The container has no network address.", time.GetUtcNow());
        }

        var result = await ProbeOnceAsync(address, probe, timeout, ct);
        PanelTelemetry.ProbeDuration.Record(result.LatencyMs / 1000.0,
            new KeyValuePair<string, object?>("service", container.Service ?? container.Name),
            new KeyValuePair<string, object?>("outcome", result.Healthy ? PanelTelemetry.Succeeded : PanelTelemetry.Failed));
        return result;
    }

    private async Task<ProbeResult> ProbeOnceAsync(string address, ProbeDefinition probe, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var watch = Stopwatch.StartNew();
        try
        {
            var (healthy, message) = probe.Kind switch
            {
                ProbeKind.Http => await HttpAsync(address, probe, deadline.Token),
                ProbeKind.Tcp => await TcpAsync(address, probe.Port, null, _ => true, "accepts connections", deadline.Token),
                ProbeKind.Redis => await TcpAsync(address, probe.Port, "PING\r\n"u8.ToArray(),
                    reply => reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal),
                    "answers PING", deadline.Token),
                // SSLRequest: length 8, code 80877103; a PostgreSQL server answers 'S' or 'N'.
                ProbeKind.Postgres => await TcpAsync(address, probe.Port, [0, 0, 0, 8, 4, 210, 22, 47],
                    reply => reply is "S" or "N", "answers the PostgreSQL protocol", deadline.Token),
                _ => (false, $"Unknown probe kind {probe.Kind}."),
            };
            return new ProbeResult(healthy, (int)watch.ElapsedMilliseconds, message, time.GetUtcNow());
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ProbeResult(false, (int)watch.ElapsedMilliseconds, $"No answer within {timeout.TotalSeconds:0.#} s.", time.GetUtcNow());
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException)
        {
            return new ProbeResult(false, (int)watch.ElapsedMilliseconds, ex.GetBaseException().Message, time.GetUtcNow());
        }
    }

    private async Task<(bool, string)> HttpAsync(string address, ProbeDefinition probe, CancellationToken ct)
    {
        var http = httpFactory.CreateClient(HttpClientName);
        using var response = await http.GetAsync(new Uri($"http://{address}:{probe.Port}{probe.Path}"), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        var status = (int)response.StatusCode;
        if (status != probe.ExpectStatus)
        {
            return (false, $"GET {probe.Path} answered {status}: {Shorten(body)}");
        }

        return probe.ExpectBody.Length > 0 && !body.Contains(probe.ExpectBody, StringComparison.Ordinal)
            ? (false, $"GET {probe.Path} answered {status} without \"{probe.ExpectBody}\": {Shorten(body)}")
            : (true, $"GET {probe.Path} answered {status}");
    }

    private static async Task<(bool, string)> TcpAsync(string address, int port, byte[]? send, Func<string, bool> accept, string what, CancellationToken ct)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address, port, ct);
        if (send is null)
        {
            return (true, $"port {port} {what}");
        }

        var stream = client.GetStream();
        await stream.WriteAsync(send, ct);
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer, ct);
        var reply = Encoding.ASCII.GetString(buffer, 0, read);
        return accept(reply) ? (true, $"port {port} {what}") : (false, $"port {port} answered unexpectedly: {Shorten(reply)}");
    }

    private static string Shorten(string text)
    {
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length <= 120 ? text : text[..120] + "…";
    }
}
