using GrafanaPanel.Web.Telemetry;
using Hangfire;
using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace GrafanaPanel.Web.Hosting;

public static class TelemetryExtensions
{
    /// <summary>The standard OpenTelemetry variable: set, spans are exported there over OTLP; unset, nothing is traced.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public const string ServiceNameVariable = "OTEL_SERVICE_NAME";

    public const string DefaultServiceName = "grafana-panel";

    /// <summary>
    /// Traces (ASP.NET Core, HttpClient, Npgsql and the portal's own source) exported over OTLP when
    /// <see cref="OtlpEndpointVariable"/> is set; the portal's meter published on /metrics by prometheus-net, with the
    /// depth of the job queues read from Hangfire's storage at each scrape; Hangfire jobs continue the trace that queued them.
    /// </summary>
    public static void AddPanelTelemetry(this WebApplicationBuilder builder)
    {
        // The meter adapter is on by default in prometheus-net 8. It drops a series that had no measurement for a while:
        // five minutes by default, one day at most (its limit), so a nightly job's series stays until the next night.
        // The histograms get buckets that fit seconds and bytes.
        Prometheus.Metrics.ConfigureMeterAdapter(options =>
        {
            options.MetricsExpireAfter = TimeSpan.FromDays(1);
            var fallback = options.ResolveHistogramBuckets;
            options.ResolveHistogramBuckets = instrument => PanelTelemetry.BucketsFor(instrument) ?? fallback(instrument);
        });

        // Hangfire's filters are process-wide; a second host in the same process (tests) must not add a second one.
        lock (GlobalJobFilters.Filters)
        {
            if (!GlobalJobFilters.Filters.Any(filter => filter.Instance is JobTraceFilter))
            {
                GlobalJobFilters.Filters.Add(new JobTraceFilter());
            }
        }

        builder.Services.AddSingleton<JobQueueMetrics>();
        builder.Services.AddHostedService(services => services.GetRequiredService<JobQueueMetrics>());

        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]))
        {
            // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and the OTLP exporter's own variables are read by the SDK.
            builder.Services.AddPanelTracing(tracing => tracing.AddOtlpExporter(), builder.Configuration[ServiceNameVariable]);
        }
    }

    /// <summary>
    /// prometheus-net starts its meter adapter at the registry's first collection, and a meter's measurements taken
    /// before that are lost: one collection now makes the portal's meter count from the start, not from the first scrape.
    /// </summary>
    public static void StartMeterAdapter() =>
        Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();

    /// <summary>Tracing of the portal with the given exporter (OTLP in the stack; tests add an in-memory one).</summary>
    public static IServiceCollection AddPanelTracing(this IServiceCollection services, Action<TracerProviderBuilder> export, string? serviceName = null)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(string.IsNullOrWhiteSpace(serviceName) ? DefaultServiceName : serviceName))
            .WithTracing(tracing =>
            {
                tracing
                    .AddSource(PanelTelemetry.Name)
                    // Blazor Server's own spans (.NET 10): a click in a circuit is the root of what it queues.
                    .AddSource("Microsoft.AspNetCore.Components")
                    .AddAspNetCoreInstrumentation(options =>
                    {
                        // The portal has no hub of its own: SignalR's spans would be the Blazor circuit's messages (render
                        // acknowledgements, JS interop replies), each a trace of its own, dozens per page view.
                        options.EnableAspNetCoreSignalRSupport = false;
                        // Probes and scrapes every few seconds would bury the spans that matter.
                        options.Filter = http => !http.Request.Path.StartsWithSegments("/metrics")
                            && !http.Request.Path.StartsWithSegments("/healthz")
                            && !http.Request.Path.StartsWithSegments("/readyz")
                            && !http.Request.Path.StartsWithSegments("/_framework")
                            && !http.Request.Path.StartsWithSegments("/_content");
                    })
                    .AddHttpClientInstrumentation()
                    .AddNpgsql();
                export(tracing);
            });
        return services;
    }
}
