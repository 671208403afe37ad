using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>
/// A named lab state ("clean stack", "Module 3 start"): a pinned backup set with a name, a description and
/// optionally the training module it starts. The built-in factory baseline (empty volumes) has no row.
/// </summary>
public sealed class Baseline
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    public string Description { get; set; } = "";

    /// <summary>The module id of <c>modules.yaml</c> this baseline is the start of, if any.</summary>
    public string? ModuleId { get; set; }

    public Guid SetId { get; set; }

    public BackupSet? Set { get; set; }

    /// <summary>The baseline the reset dialog offers first (at most one; none means the configured default).</summary>
    public bool IsDefault { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string CreatedBy { get; set; } = "";
}

public enum ResetStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// <summary>Who asked for a reset; stored as <c>manual</c> or <c>schedule</c>.</summary>
[JsonConverter(typeof(Vocabulary.Json<ResetTrigger>))]
public enum ResetTrigger
{
    Manual,
    Schedule,
}

/// <summary>What a reset step does; stored in kebab case (<c>safety-backup</c>), shown as its display name.</summary>
[JsonConverter(typeof(Vocabulary.Json<ResetStepKind>))]
public enum ResetStepKind
{
    /// <summary>Checks the baseline's archives and the services in scope.</summary>
    [Display(Name = "Check")]
    Check,

    /// <summary>Stops one service (in dependency order).</summary>
    [Display(Name = "Stop")]
    Stop,

    /// <summary>Backs up the volumes about to be replaced.</summary>
    [Display(Name = "Safety backup")]
    SafetyBackup,

    /// <summary>Leaves a volume as it is (the baseline does not hold it).</summary>
    [Display(Name = "Keep volume")]
    Keep,

    /// <summary>Replaces a volume's content with the baseline's.</summary>
    [Display(Name = "Restore volume")]
    Restore,

    /// <summary>Empties a volume (the factory baseline).</summary>
    [Display(Name = "Empty volume")]
    Empty,

    /// <summary>Puts the safety backup back after a failure.</summary>
    [Display(Name = "Roll back")]
    Rollback,

    /// <summary>Starts one service again.</summary>
    [Display(Name = "Start")]
    Start,

    /// <summary>Waits until one service is healthy.</summary>
    [Display(Name = "Wait until healthy")]
    Health,
}

public enum ResetStepStatus
{
    Running,
    Done,
    Failed,
    Skipped,
}

/// <summary>One line of a reset's step log: what was done to which service or volume, and how it ended.</summary>
public sealed class ResetStep
{
    public int Index { get; set; }

    public ResetStepKind Kind { get; set; }

    /// <summary>The service or volume the step acts on, if any.</summary>
    public string? Target { get; set; }

    public ResetStepStatus Status { get; set; }

    public string Message { get; set; } = "";

    public DateTimeOffset StartedAt { get; set; }

    public long? DurationMs { get; set; }

    public ResetStep Copy() => (ResetStep)MemberwiseClone();
}

/// <summary>One reset, requested by a user or a schedule: what it replaced, how it went, step by step.</summary>
public sealed class ResetRun
{
    public Guid Id { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string RequestedBy { get; set; } = "";

    public ResetTrigger Trigger { get; set; }

    public Guid? ScheduleId { get; set; }

    /// <summary>Null for the factory baseline (empty volumes).</summary>
    public Guid? BaselineId { get; set; }

    /// <summary>The baseline's name when the reset was asked for (kept when the baseline is renamed or deleted).</summary>
    public string BaselineName { get; set; } = "";

    /// <summary>The services in scope; empty means the whole stack.</summary>
    public List<string> Services { get; set; } = [];

    public bool WholeStack => Services.Count == 0;

    public bool SafetyBackup { get; set; } = true;

    public Guid? SafetySetId { get; set; }

    public ResetStatus Status { get; set; }

    /// <summary>True while queued or running; a unique index lets at most one run be active at a time.</summary>
    public bool Active { get; set; }

    public string? Error { get; set; }

    public long? DurationMs { get; set; }

    public List<ResetStep> Steps { get; set; } = [];
}

/// <summary>A recurring reset (e.g. every night before class).</summary>
public sealed class ResetSchedule : ISchedule
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    /// <summary>Five-field cron, validated like backup schedules.</summary>
    public string Cron { get; set; } = "";

    public string TimeZone { get; set; } = "UTC";

    /// <summary>Null for the factory baseline.</summary>
    public Guid? BaselineId { get; set; }

    /// <summary>The services in scope; empty means the whole stack.</summary>
    public List<string> Services { get; set; } = [];

    public bool SafetyBackup { get; set; } = true;

    public bool Paused { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string CreatedBy { get; set; } = "";
}

internal sealed class BaselineConfiguration : IEntityTypeConfiguration<Baseline>
{
    public void Configure(EntityTypeBuilder<Baseline> builder)
    {
        builder.ToTable("Baselines");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Name).HasMaxLength(100);
        builder.HasIndex(b => b.Name).IsUnique();
        builder.Property(b => b.Description).HasMaxLength(1000);
        builder.Property(b => b.ModuleId).HasMaxLength(64);
        builder.Property(b => b.CreatedBy).HasMaxLength(256);
        builder.HasIndex(b => b.SetId).IsUnique();
        // A baseline's set cannot be deleted while the baseline exists (it is pinned, too).
        builder.HasOne(b => b.Set).WithMany().HasForeignKey(b => b.SetId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(b => b.IsDefault).IsUnique().HasFilter("\"IsDefault\"");
    }
}

internal sealed class ResetRunConfiguration : IEntityTypeConfiguration<ResetRun>
{
    public void Configure(EntityTypeBuilder<ResetRun> builder)
    {
        builder.ToTable("ResetRuns");
        builder.HasKey(r => r.Id);
        builder.Ignore(r => r.WholeStack);
        builder.Property(r => r.RequestedBy).HasMaxLength(256);
        builder.Property(r => r.Trigger).HasConversion(Vocabulary.Converter<ResetTrigger>()).HasMaxLength(32);
        builder.Property(r => r.BaselineName).HasMaxLength(100);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(r => r.RequestedAt);
        // The database itself refuses a second active reset, also from a second portal process.
        builder.HasIndex(r => r.Active).IsUnique().HasFilter("\"Active\"");
        builder.OwnsMany(r => r.Steps, steps =>
        {
            steps.ToJson();
            steps.Property(s => s.Status).HasConversion<string>();
            steps.Property(s => s.Kind).HasConversion(Vocabulary.Converter<ResetStepKind>());
        });
    }
}

internal sealed class ResetScheduleConfiguration : IEntityTypeConfiguration<ResetSchedule>
{
    public void Configure(EntityTypeBuilder<ResetSchedule> builder)
    {
        builder.ToTable("ResetSchedules");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.HasIndex(s => s.Name).IsUnique();
        builder.Property(s => s.Cron).HasMaxLength(100);
        builder.Property(s => s.TimeZone).HasMaxLength(64);
        builder.Property(s => s.CreatedBy).HasMaxLength(256);
        builder.HasIndex(s => s.BaselineId);
    }
}
