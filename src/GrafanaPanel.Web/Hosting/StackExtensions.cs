using System.Text;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Mvc;

namespace GrafanaPanel.Web.Hosting;

public static class StackExtensions
{
    public static void AddPanelStack(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StackOptions>().BindConfiguration(StackOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<StackSnapshot>();
        services.AddSingleton<StackLock>();
        services.AddSingleton<ServiceProber>();
        services.AddHttpClient(ServiceProber.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
        services.AddSingleton<StackMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<StackMonitor>());
        services.AddSingleton<StackMetrics>();
        services.AddScoped<StackControl>();
        services.AddScoped<IStackControl>(sp => sp.GetRequiredService<StackControl>());
        services.AddSingleton<StackOperations>();
        services.AddScoped<StackLogs>();
    }

    public static void MapPanelStack(this WebApplication app)
    {
        // The overview as JSON, served from the in-memory snapshot (no daemon call), for scripts and the benchmark.
        app.MapGet("/api/stack", ([FromServices] StackSnapshot snapshot) => Results.Json(StackSummary.From(snapshot.Current)))
            .RequireAuthorization();

        // Download a service's (or the whole stack's) recent log as plain text.
        app.MapGet("/logs/download", async (HttpContext http, [FromServices] StackLogs logs, [FromQuery] string? service, [FromQuery] int? tail) =>
        {
            var names = string.IsNullOrEmpty(service) ? Array.Empty<string>() : [service];
            var lines = new List<ServiceLogLine>();
            try
            {
                await foreach (var line in logs.ReadAsync(names, tail ?? 1000, follow: false, http.RequestAborted))
                {
                    lines.Add(line);
                }
            }
            catch (StackActionRefusedException ex)
            {
                return Results.NotFound(ex.Message);
            }

            var text = new StringBuilder();
            foreach (var line in lines)
            {
                text.Append(line.Timestamp.ToString("O")).Append(' ').Append(line.Service).Append(' ')
                    .Append(line.Stream == Docker.LogStream.Stderr ? "stderr" : "stdout").Append(' ').AppendLine(line.Text);
            }

            var file = $"{(string.IsNullOrEmpty(service) ? "stack" : service)}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.log";
            return Results.File(Encoding.UTF8.GetBytes(text.ToString()), "text/plain; charset=utf-8", file);
        }).RequireAuthorization();
    }
}
