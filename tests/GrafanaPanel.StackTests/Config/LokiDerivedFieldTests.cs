using System.Diagnostics;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.StackTests.Infrastructure;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;

namespace GrafanaPanel.StackTests.Config;

/// <summary>
/// The Loki data source's derived field (deploy/grafana/provisioning/datasources) that links a log line to its
/// trace in Tempo. Grafana matches it in the browser (<c>line.match(matcherRegex)</c>, a JavaScript regular
/// expression without flags), so it is checked the same way, in Debian's Chromium.
/// </summary>
public sealed class LokiDerivedFieldTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    private static string MatcherRegex()
    {
        var loki = Yaml.Load(Repo.PathOf("deploy", "grafana", "provisioning", "datasources", "datasources.yaml"))
            .Items("datasources").Single(d => d.Text("uid") == "loki");
        Assert.Equal("regex", loki.Text("jsonData", "derivedFields", 0, "matcherType"));
        Assert.Equal("tempo", loki.Text("jsonData", "derivedFields", 0, "datasourceUid"));
        return loki.Text("jsonData", "derivedFields", 0, "matcherRegex")!;
    }

    /// <summary>What Grafana's Loki data source extracts from one line: the first group of the match, or null.</summary>
    private static async Task<string?> MatchInBrowserAsync(string line)
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.Instance.NewPageAsync();
        return await page.EvaluateAsync<string?>(
            "([line, regex]) => { const match = line.match(regex); return match && match[1] ? match[1] : null; }",
            new[] { line, MatcherRegex() });
    }

    [Fact]
    public async Task It_finds_the_trace_id_of_a_line_the_portal_logs_inside_a_trace()
    {
        // The portal's log line as docker-compose.yml configures it: Serilog's CompactJsonFormatter, which writes
        // the current activity's trace id as "@tr".
        using var source = new ActivitySource("GrafanaPanel.StackTests");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var output = new StringWriter();
        string traceId;
        using (var activity = source.StartActivity("backup"))
        {
            Assert.NotNull(activity);
            traceId = activity.TraceId.ToHexString();
            using var logger = new LoggerConfiguration().WriteTo.Sink(new FormattingSink(new CompactJsonFormatter(), output)).CreateLogger();
            logger.Information("Backup {BackupId} of {VolumeCount} volumes finished", 42, 3);
        }

        var line = output.ToString().Trim();
        Assert.Contains($"\"@tr\":\"{traceId}\"", line);

        Assert.Equal(traceId, await MatchInBrowserAsync(line));
    }

    [Theory]
    [InlineData($"level=info ts=2026-03-02T10:00:00Z traceID={TraceId} msg=\"query\"")]
    [InlineData($"level=info trace_id={TraceId} msg=ok")]
    [InlineData($"{{\"TraceId\":\"{TraceId}\",\"message\":\"done\"}}")]
    [InlineData($"{{\"traceid\": \"{TraceId}\"}}")]
    [InlineData($"TRACE-ID: {TraceId}")]
    public async Task It_finds_a_trace_id_whatever_the_case_and_format_of_its_field(string line) =>
        Assert.Equal(TraceId, await MatchInBrowserAsync(line));

    [Theory]
    [InlineData("{\"@t\":\"2026-03-02T10:00:00Z\",\"@mt\":\"Started\"}")]
    [InlineData("{\"TraceId\":null,\"message\":\"outside a trace\"}")]
    [InlineData("level=info msg=\"traceID=\"")]
    public async Task A_line_without_a_trace_id_gets_no_link(string line) =>
        Assert.Null(await MatchInBrowserAsync(line));

    private sealed class FormattingSink(ITextFormatter formatter, TextWriter output) : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => formatter.Format(logEvent, output);
    }
}
