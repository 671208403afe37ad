using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;

namespace GrafanaPanel.Web.Hosting;

public static class JobsExtensions
{
    public const string DashboardPath = "/jobs";

    public static void AddPanelJobs(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(DatabaseExtensions.ConnectionStringName)!;
        builder.Services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            // Jobs say how often they retry; a job without its own attribute is tried once more, not ten times.
            .UseFilter(new AutomaticRetryAttribute { Attempts = 1 })
            .UsePostgreSqlStorage(
                options => options.UseNpgsqlConnection(connectionString),
                new PostgreSqlStorageOptions
                {
                    SchemaName = DatabaseInitializer.HangfireSchema,
                    // The schema is installed by DatabaseInitializer under the migration lock, once PostgreSQL answers.
                    PrepareSchemaIfNecessary = false,
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                }));

        builder.Services.AddHostedService<JobServerHost>();
    }

    public static void MapPanelJobs(this WebApplication app)
    {
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            DashboardTitle = "GrafanaPanel jobs",
            AppPath = "/",
            Authorization = [],
            AsyncAuthorization = [new AdminDashboardFilter()],
            // Read-only for everyone: a requeue or retry from the dashboard would run a restore or reset as the job's
            // original requester, with no audit entry for whoever clicked. Restores and resets start from their pages.
            IsReadOnlyFunc = _ => true,
        }).RequireAuthorization(PanelPolicies.Admin);
    }

    /// <summary>
    /// Defence in depth behind the endpoint's policy (Hangfire's default lets any local request in), and the role is
    /// read from the database on every request: the cookie's role claim may be up to a minute old.
    /// </summary>
    private sealed class AdminDashboardFilter : IDashboardAsyncAuthorizationFilter
    {
        public async Task<bool> AuthorizeAsync(DashboardContext context)
        {
            var http = context.GetHttpContext();
            try
            {
                await http.RequestServices.GetRequiredService<RoleGate>().RequireAsync(http.User, PanelRoles.Admin, http.RequestAborted);
                return true;
            }
            catch (PanelAccessDeniedException)
            {
                return false;
            }
        }
    }
}
