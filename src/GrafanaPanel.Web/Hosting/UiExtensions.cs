using GrafanaPanel.Web.Components;
using MudBlazor.Services;

namespace GrafanaPanel.Web.Hosting;

public static class UiExtensions
{
    public static void AddPanelUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
    }

    /// <summary>The middleware pipeline, in the order each piece needs.</summary>
    public static void UsePanelPipeline(this WebApplication app)
    {
        app.UsePanelForwardedHeadersAndHttps();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }

        app.UsePanelApiProblems();

        app.UseRouting();
        app.UseHttpMetricsForPanel();
        app.UseAuthentication();
        app.UsePanelRequestLogging();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.UsePanelCrossOriginGuard();
        // After the guard: a refused cross-origin or unmarked write uses up no one's limit.
        app.UseRateLimiter();
    }

    public static void MapPanelUi(this WebApplication app)
    {
        // Style sheets, scripts and images reveal nothing; the sign-in page needs them before anyone signs in.
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }

    private static void UseHttpMetricsForPanel(this WebApplication app) => Prometheus.HttpMetricsMiddlewareExtensions.UseHttpMetrics(app);
}
