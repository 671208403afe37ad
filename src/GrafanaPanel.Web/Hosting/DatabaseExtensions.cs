using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Hosting;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Panel";

    public static void AddPanelDatabase(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "No database is configured. Set ConnectionStrings__Panel (for example " +
                "\"Host=localhost;Port=5432;Database=panel;Username=panel;Password=...\"), " +
                "or start the portal with scripts/run-portal.sh, which provides a local PostgreSQL.");
        }

        // Blazor components and singletons use the factory (a circuit outlives a request); Identity uses the scoped context.
        builder.Services.AddDbContextFactory<PanelDbContext>(options => options.UseNpgsql(connectionString));
        builder.Services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContext());
        builder.Services.AddSingleton<DatabaseStatus>();
        builder.Services.AddHostedService<DatabaseInitializer>();
    }
}
