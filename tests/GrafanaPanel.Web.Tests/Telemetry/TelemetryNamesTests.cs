using GrafanaPanel.Web.Features.Backups.Jobs;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Resets.Jobs;
using GrafanaPanel.Web.Telemetry;

namespace GrafanaPanel.Web.Tests.Telemetry;

/// <summary>The names spans and metric labels carry: few, stable, and never an id or a query.</summary>
public sealed class TelemetryNamesTests
{
    [Theory]
    [InlineData(typeof(BackupJob), "backup")]
    [InlineData(typeof(RestoreJob), "restore")]
    [InlineData(typeof(ScheduledBackupJob), "scheduled-backup")]
    [InlineData(typeof(ScheduledResetJob), "scheduled-reset")]
    [InlineData(typeof(CatalogRescanJob), "catalog-rescan")]
    [InlineData(typeof(ResetJob), "reset")]
    public void A_jobs_name_is_its_class_without_Job_in_kebab_case(Type job, string name) =>
        Assert.Equal(name, JobTraceFilter.JobName(job));

    [Theory]
    [InlineData("GET", "api/health", "GET /api/health")]
    [InlineData("GET", "api/dashboards/uid/abc123?orgId=2", "GET /api/dashboards")]
    [InlineData("DELETE", "http://grafana:3000/api/admin/users/42", "DELETE /api/admin")]
    [InlineData("POST", "api/orgs/7/users", "POST /api/orgs")]
    public void A_grafana_calls_operation_is_its_method_and_api_area(string method, string uri, string operation)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(uri, UriKind.RelativeOrAbsolute));
        Assert.Equal(operation, GrafanaApi.OperationOf(request));
    }
}
