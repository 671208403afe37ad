using System.Security.Claims;
using Serilog;
using Serilog.Context;

namespace GrafanaPanel.Web.Hosting;

public static class LoggingExtensions
{
    /// <summary>Serilog configured from the "Serilog" section of appsettings/environment; no sink is hard-coded.</summary>
    public static void AddPanelLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext());
    }

    /// <summary>Request logging, with the signed-in user and the trace id on every event of the request.</summary>
    public static void UsePanelRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.EnrichDiagnosticContext = (context, http) =>
            {
                context.Set("UserName", http.User.Identity?.Name ?? "anonymous");
                context.Set("TraceId", System.Diagnostics.Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier);
            };
        });

        app.Use(async (http, next) =>
        {
            using (LogContext.PushProperty("UserName", http.User.FindFirstValue(ClaimTypes.Name) ?? "anonymous"))
            using (LogContext.PushProperty("TraceId", System.Diagnostics.Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier))
            {
                await next(http);
            }
        });
    }
}
