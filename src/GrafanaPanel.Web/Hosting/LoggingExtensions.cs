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

    /// <summary>Request logging, with the signed-in user on every event of the request. The trace and span ids are the
    /// compact JSON's own @tr and @sp fields (every event written inside an activity), which the Loki data source links to Tempo.</summary>
    public static void UsePanelRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.EnrichDiagnosticContext = (context, http) =>
            {
                context.Set("UserName", http.User.Identity?.Name ?? "anonymous");
            };
        });

        app.Use(async (http, next) =>
        {
            using (LogContext.PushProperty("UserName", http.User.FindFirstValue(ClaimTypes.Name) ?? "anonymous"))
            {
                await next(http);
            }
        });
    }
}
