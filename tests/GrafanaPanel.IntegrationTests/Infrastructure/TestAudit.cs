using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

public static class TestAudit
{
    /// <summary>The real audit log on the app's database, stamping entries with a clock the test moves.</summary>
    public static AuditLog LogWithClock(PanelAppFactory app, TimeProvider clock) =>
        new(app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(), clock, NullLogger<AuditLog>.Instance);
}
