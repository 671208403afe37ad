using GrafanaPanel.Web.Features.Audit;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace GrafanaPanel.Web.Hosting;

public static class AuditExtensions
{
    public static void AddPanelAudit(this WebApplicationBuilder builder)
    {
        // One singleton (it opens a context per call from the factory), seen through each of its roles.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditLog>());
        builder.Services.AddSingleton<IAuditReader>(sp => sp.GetRequiredService<AuditLog>());
    }

    public static void MapPanelAudit(this WebApplication app)
    {
        // Any signed-in role may read the log (see AuditPage); the handler re-checks the account against the database.
        app.MapGet(AuditQuery.ExportPath, AuditCsvExport.ExportAsync).RequireAuthorization();
    }
}
