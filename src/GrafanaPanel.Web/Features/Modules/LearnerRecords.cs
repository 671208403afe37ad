using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>
/// A Grafana user the portal created for a learner. Only users with a record here (and a login starting with
/// <see cref="LearnerAccounts.LoginPrefix"/>) are ever listed or removed by the portal. No password is stored.
/// </summary>
public sealed class LearnerAccount
{
    public const int LoginMaxLength = 64;
    public const int TeamMaxLength = 128;
    public const int CreatedByMaxLength = 256;

    public long Id { get; set; }

    public int GrafanaUserId { get; set; }

    public string Login { get; set; } = "";

    /// <summary>The team organization's name, when the learner was put in one.</summary>
    public string? Team { get; set; }

    public int? GrafanaOrgId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string CreatedBy { get; set; } = "";
}

/// <summary>A Grafana organization the portal created for a team of learners (removed with the last learner).</summary>
public sealed class LearnerTeam
{
    public long Id { get; set; }

    public int GrafanaOrgId { get; set; }

    public string Name { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class LearnerAccountConfiguration : IEntityTypeConfiguration<LearnerAccount>
{
    public void Configure(EntityTypeBuilder<LearnerAccount> account)
    {
        account.ToTable("LearnerAccounts");
        account.Property(a => a.Login).HasMaxLength(LearnerAccount.LoginMaxLength);
        account.Property(a => a.Team).HasMaxLength(LearnerAccount.TeamMaxLength);
        account.Property(a => a.CreatedBy).HasMaxLength(LearnerAccount.CreatedByMaxLength);
        account.Property(a => a.CreatedAt).HasColumnType("timestamp with time zone");
        account.HasIndex(a => a.Login).IsUnique();
    }
}

public sealed class LearnerTeamConfiguration : IEntityTypeConfiguration<LearnerTeam>
{
    public void Configure(EntityTypeBuilder<LearnerTeam> team)
    {
        team.ToTable("LearnerTeams");
        team.Property(t => t.Name).HasMaxLength(LearnerAccount.TeamMaxLength);
        team.Property(t => t.CreatedAt).HasColumnType("timestamp with time zone");
        team.HasIndex(t => t.Name).IsUnique();
    }
}
