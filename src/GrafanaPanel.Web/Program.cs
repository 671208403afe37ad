using GrafanaPanel.Web.Hosting;

if (await HealthProbeCommand.TryRunAsync(args))
{
    return;
}

// setup-link, unlock-admin: the host's commands, on the portal's database, before any web host exists.
if (await HostCommands.TryRunAsync(args))
{
    return;
}

var builder = WebApplication.CreateBuilder(args);

// Logging: Serilog from configuration only.
builder.AddPanelLogging();

// Traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, the portal's meter on /metrics, jobs in their request's trace.
builder.AddPanelTelemetry();

// Data: EF Core on PostgreSQL, migrated at start-up with retries.
builder.AddPanelDatabase();

// HTTPS, trusted reverse proxies, and the refusal of writes started by another origin.
builder.AddPanelWebSecurity();

// Sign-in, roles and the first Admin.
builder.AddPanelAccounts();

// Docker engine boundary and its monitor.
builder.AddPanelDocker();

// The lab stack: live snapshot, probes, actions, logs.
builder.AddPanelStack();

// Background jobs (Hangfire on PostgreSQL).
builder.AddPanelJobs();

// Schedules of any kind (cron, time zone, recurring job), used by backups and resets.
builder.AddPanelSchedules();

// Backup engine: volume archives through helper containers, restores with a safety net, start-up recovery.
builder.AddPanelBackups();

// Backup jobs, schedules, progress, download and import (above the engine).
builder.AddPanelBackupJobs();

// Lab resets: baselines, one-click and scheduled resets to them, one stack-changing job at a time.
builder.AddPanelResets();

// Audit log of every action (who, when, what, outcome), its page and CSV export.
builder.AddPanelAudit();

// Training modules: the catalog, Grafana links and readiness, the pre-class check, notes, learner accounts.
builder.AddPanelModules();

// Health probes' history, kept across restarts.
builder.AddPanelHealthHistory();

// Health checks and Prometheus metrics.
builder.AddPanelHealth();

// The versioned HTTP API: access tokens, problem details, rate limits, OpenAPI document and reference page.
builder.AddPanelApi();

// Blazor Server UI with MudBlazor.
builder.AddPanelUi();

var app = builder.Build();

app.UsePanelPipeline();
app.MapPanelHealth();
app.MapPanelAccounts();
app.MapPanelJobs();
app.MapPanelStack();
app.MapPanelAudit();
app.MapPanelBackupJobs();
app.MapPanelResets();
app.MapPanelApi();
app.MapPanelUi();

await app.RunAsync();

/// <summary>Entry point marker so tests can host the app with WebApplicationFactory.</summary>
public partial class Program;
