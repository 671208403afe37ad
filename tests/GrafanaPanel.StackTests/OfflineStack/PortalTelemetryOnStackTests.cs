using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.OfflineStack;

/// <summary>
/// The portal's container, configured by the real docker-compose.yml, sends its traces to the stack's Tempo (OTLP/HTTP
/// protobuf, read by the stand-in) and its log lines reach Loki through Alloy, linked by one trace id
/// (docs/observability.md).
/// </summary>
[Collection(OfflineStackCollection.Name)]
[Trait("Category", "OfflineStack")]
public sealed class PortalTelemetryOnStackTests(OfflineStackFixture stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    private string Volume => $"{stack.ProjectName}_redis_data";

    [Fact]
    public async Task A_backup_started_through_the_API_is_one_trace_in_Tempo_and_its_log_line_with_the_trace_id_is_in_Loki()
    {
        await stack.StartPortalAsync();
        // Signed in with the sign-in cookie, sending the header a script sends with its writes.
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = stack.Url("PANEL_PORT", "/"),
        };
        var signIn = await PanelAppFactory.SignInAsync(client, stack.TestEnvironment["PANEL_ADMIN_EMAIL"], stack.TestEnvironment["PANEL_ADMIN_PASSWORD"]);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        client.DefaultRequestHeaders.Add(GrafanaPanel.Web.Features.WebSecurity.CrossOriginWriteGuard.HeaderName, "1");

        // The caller's own trace: the request continues it, and so must the job the request queues.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpanId = ActivitySpanId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/backups/sets")
        {
            Content = JsonContent.Create(new { volumes = new[] { Volume } }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpanId}-01");
        using var started = await client.SendAsync(request);
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, $"{(int)started.StatusCode} {await started.Content.ReadAsStringAsync()}");
        var operation = started.Headers.Location ?? throw new InvalidOperationException("202 without a Location");

        var status = "";
        await Eventually.HoldsAsync("the backup operation ended", async () =>
        {
            using var body = JsonDocument.Parse(await client.GetStringAsync(operation));
            status = body.RootElement.GetProperty("status").GetString() ?? "";
            return (status is "succeeded" or "failed", body.RootElement.ToString());
        }, TimeSpan.FromMinutes(3));
        Assert.Equal("succeeded", status);

        // Tempo: request → queue backup → job backup → the backup's steps and Docker calls, one trace id.
        var spans = new List<Span>();
        await Eventually.HoldsAsync($"the backup's spans in Tempo under trace {traceId}", async () =>
        {
            using var response = await stack.Http.GetAsync(stack.Url("TEMPO_PORT", $"/api/traces/{traceId}"));
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (false, $"{(int)response.StatusCode}");
            }

            spans = Span.ReadAll(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
            var names = spans.Select(s => s.Name).ToList();
            var complete = names.Contains("job backup") && names.Any(n => n.StartsWith("docker ", StringComparison.Ordinal))
                && names.Contains("backup read volume");
            return (complete, string.Join(", ", names));
        }, Deadline);

        var server = Assert.Single(spans, s => s.ParentSpanId == callerSpanId);
        Assert.StartsWith("POST /api/v1/backups/sets", server.Name, StringComparison.Ordinal);
        var queue = Assert.Single(spans, s => s.Name == "queue backup");
        Assert.True(Span.Descends(queue, server, spans), $"'queue backup' is not under the request: {Span.Chain(queue, spans)}");
        var job = Assert.Single(spans, s => s.Name == "job backup");
        Assert.Equal(queue.SpanId, job.ParentSpanId);
        Assert.Equal("success", job.Attribute("outcome"));
        var read = Assert.Single(spans, s => s.Name == "backup read volume");
        Assert.Equal(Volume, read.Attribute("volume"));
        Assert.True(Span.Descends(read, job, spans), $"'backup read volume' is not under the job: {Span.Chain(read, spans)}");
        Assert.Contains(spans, s => s.Name.StartsWith("docker ", StringComparison.Ordinal) && Span.Descends(s, job, spans));
        Assert.All(spans, s => Assert.Equal("grafana-panel", s.Service));
        Assert.All(spans, s => Assert.Equal(stack.ProjectName, s.Namespace));

        // Loki: the job's line carries the same id in "@tr", the field the Loki data source's derived field reads.
        var query = Uri.EscapeDataString($"{{service=\"panel\"}} |= \"{traceId}\"");
        await Eventually.HoldsAsync($"the backup's log line with trace {traceId} in Loki", async () =>
        {
            var lines = (await stack.GetJsonAsync(stack.Url("LOKI_PORT", $"/loki/api/v1/query_range?query={query}&limit=50")))
                .GetProperty("data").GetProperty("result").EnumerateArray()
                .SelectMany(stream => stream.GetProperty("values").EnumerateArray().Select(v => v[1].GetString() ?? "")).ToList();
            var completed = lines.Select(line => JsonDocument.Parse(line).RootElement)
                .Any(e => e.TryGetProperty("@tr", out var tr) && tr.GetString() == traceId
                    && e.GetProperty("@mt").GetString()!.StartsWith("Backup set {SetId} completed", StringComparison.Ordinal));
            return (completed, $"{lines.Count} line(s): {string.Join(" | ", lines.Take(5))}");
        }, Deadline);
    }

    /// <summary>A span as the Tempo stand-in returns it (OTLP/JSON batches).</summary>
    private sealed record Span(string Name, string SpanId, string ParentSpanId, string Service, string Namespace, JsonElement Attributes)
    {
        public string? Attribute(string key) => Attributes.ValueKind != JsonValueKind.Array ? null : Attributes.EnumerateArray()
            .Where(a => a.GetProperty("key").GetString() == key)
            .Select(a => a.GetProperty("value").EnumerateObject().First().Value.ToString()).FirstOrDefault();

        public static List<Span> ReadAll(JsonElement trace) =>
            trace.GetProperty("batches").EnumerateArray().SelectMany(batch =>
            {
                var resource = batch.GetProperty("resource");
                var service = ResourceAttribute(resource, "service.name");
                var ns = ResourceAttribute(resource, "service.namespace");
                return batch.GetProperty("scopeSpans").EnumerateArray().SelectMany(scope => scope.GetProperty("spans").EnumerateArray())
                    .Select(s => new Span(
                        s.GetProperty("name").GetString() ?? "",
                        s.GetProperty("spanId").GetString() ?? "",
                        s.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() ?? "" : "",
                        service, ns,
                        s.TryGetProperty("attributes", out var attributes) ? attributes.Clone() : default));
            }).ToList();

        /// <summary>Whether <paramref name="ancestor"/> is on <paramref name="span"/>'s parent chain.</summary>
        public static bool Descends(Span span, Span ancestor, IReadOnlyList<Span> all)
        {
            var current = span;
            for (var hops = 0; hops < all.Count && current is not null; hops++)
            {
                if (current.ParentSpanId == ancestor.SpanId)
                {
                    return true;
                }

                current = all.FirstOrDefault(s => s.SpanId == current.ParentSpanId);
            }

            return false;
        }

        public static string Chain(Span span, IReadOnlyList<Span> all)
        {
            var names = new List<string>();
            for (Span? current = span; current is not null && names.Count <= all.Count; current = all.FirstOrDefault(s => s.SpanId == current.ParentSpanId))
            {
                names.Add(current.Name);
            }

            return string.Join(" ← ", names);
        }

        private static string ResourceAttribute(JsonElement resource, string key) =>
            resource.GetProperty("attributes").EnumerateArray()
                .Where(a => a.GetProperty("key").GetString() == key)
                .Select(a => a.GetProperty("value").GetProperty("stringValue").GetString() ?? "").FirstOrDefault() ?? "";
    }
}
