using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Data;

public class PanelDbContext(DbContextOptions<PanelDbContext> options)
    : IdentityDbContext<PanelUser>(options), IDataProtectionKeyContext
{
    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys => Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();

    public DbSet<SetupLinkToken> SetupLinkTokens => Set<SetupLinkToken>();

    public DbSet<Features.Api.AccessToken> AccessTokens => Set<Features.Api.AccessToken>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<ProbeSampleEntity> ProbeSamples => Set<ProbeSampleEntity>();

    public DbSet<VolumeSizeSampleEntity> VolumeSizeSamples => Set<VolumeSizeSampleEntity>();

    public DbSet<ModuleNote> ModuleNotes => Set<ModuleNote>();

    public DbSet<LearnerAccount> LearnerAccounts => Set<LearnerAccount>();

    public DbSet<LearnerTeam> LearnerTeams => Set<LearnerTeam>();

    public DbSet<BackupSet> BackupSets => Set<BackupSet>();

    public DbSet<BackupSchedule> BackupSchedules => Set<BackupSchedule>();

    public DbSet<Baseline> Baselines => Set<Baseline>();

    public DbSet<ResetRun> ResetRuns => Set<ResetRun>();

    public DbSet<ResetSchedule> ResetSchedules => Set<ResetSchedule>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PanelDbContext).Assembly);
    }
}
