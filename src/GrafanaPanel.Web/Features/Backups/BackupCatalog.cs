using System.ComponentModel.DataAnnotations;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Schedules;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Backups;

/// <summary>How containers using the volumes are treated while they are read.</summary>
public enum BackupMode
{
    /// <summary>Paused while their volumes are read: a crash-consistent copy without a restart (default).</summary>
    Pause,

    /// <summary>Stopped before and started after the copy.</summary>
    Stop,

    /// <summary>No interruption; the copy may catch files mid-write.</summary>
    Hot,
}

public enum BackupSetStatus
{
    Running,
    Completed,
    Failed,

    /// <summary>The catalog lists it, but its folder or an archive is gone (found by a rescan).</summary>
    Missing,

    /// <summary>An archive does not match its recorded hash or size (found by a rescan or a verification).</summary>
    Corrupt,
}

public enum VerificationState
{
    [Display(Name = "not verified")]
    NotVerified,
    Passed,
    Failed,
}

/// <summary>
/// One backup set in the catalog: volumes of the stack copied together. The files on disk are the truth; the catalog
/// is reconciled with them by a rescan.
/// </summary>
public sealed class BackupSet
{
    /// <summary>A new running set of the volumes; its folder is a placeholder until the engine wrote the real one.</summary>
    public static BackupSet NewRunning(IReadOnlyList<string> volumes, BackupMode mode, BackupTrigger trigger, string createdBy, Guid? scheduleId)
    {
        var id = Guid.NewGuid();
        return new BackupSet
        {
            Id = id,
            CreatedAt = DateTimeOffset.UtcNow,
            Trigger = trigger,
            CreatedBy = createdBy,
            Mode = mode,
            Status = BackupSetStatus.Running,
            ScheduleId = scheduleId,
            // Unique from the start; completion replaces it with the folder the engine wrote.
            Folder = id.ToString("N"),
            Volumes = [.. volumes.Select(v => new BackupSetVolume { SetId = id, VolumeName = v })],
        };
    }

    public Guid Id { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public BackupTrigger Trigger { get; set; }

    public string CreatedBy { get; set; } = "";

    public BackupMode Mode { get; set; }

    /// <summary>zstd or gzip.</summary>
    public string Compression { get; set; } = "zstd";

    public BackupSetStatus Status { get; set; }

    public string? Error { get; set; }

    public Guid? ScheduleId { get; set; }

    /// <summary>The set's folder name under the backup directory.</summary>
    public string Folder { get; set; } = "";

    public long CompressedBytes { get; set; }

    public long UncompressedBytes { get; set; }

    public long DurationMs { get; set; }

    /// <summary>Pinned sets are never pruned.</summary>
    public bool Pinned { get; set; }

    public VerificationState Verification { get; set; }

    public DateTimeOffset? VerifiedAt { get; set; }

    public string? VerificationMessage { get; set; }

    public List<BackupSetVolume> Volumes { get; set; } = [];
}

/// <summary>One volume's archive within a set.</summary>
public sealed class BackupSetVolume
{
    public Guid SetId { get; set; }

    public string VolumeName { get; set; } = "";

    public string FileName { get; set; } = "";

    public string Sha256 { get; set; } = "";

    public long CompressedBytes { get; set; }

    public long UncompressedBytes { get; set; }

    public long Entries { get; set; }
}

/// <summary>A recurring backup of chosen volumes, with its retention.</summary>
public sealed class BackupSchedule : ISchedule
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    public List<string> Volumes { get; set; } = [];

    /// <summary>Five-field cron, validated by <see cref="CronSchedule"/>.</summary>
    public string Cron { get; set; } = "";

    public string TimeZone { get; set; } = "UTC";

    public BackupMode Mode { get; set; }

    public int? KeepLast { get; set; }

    public TimeSpan? MaxAge { get; set; }

    public bool Paused { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string CreatedBy { get; set; } = "";

    public DateTimeOffset? LastSuccessAt { get; set; }
}

internal sealed class BackupSetConfiguration : IEntityTypeConfiguration<BackupSet>
{
    public void Configure(EntityTypeBuilder<BackupSet> builder)
    {
        builder.ToTable("BackupSets");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Trigger).HasConversion(Vocabulary.Converter<BackupTrigger>()).HasMaxLength(32);
        builder.Property(s => s.CreatedBy).HasMaxLength(256);
        builder.Property(s => s.Compression).HasMaxLength(16);
        builder.Property(s => s.Folder).HasMaxLength(128);
        builder.Property(s => s.Mode).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.Verification).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(s => s.CreatedAt);
        builder.HasIndex(s => s.ScheduleId);
        builder.HasIndex(s => s.Folder).IsUnique();
        builder.HasMany(s => s.Volumes).WithOne().HasForeignKey(v => v.SetId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class BackupSetVolumeConfiguration : IEntityTypeConfiguration<BackupSetVolume>
{
    public void Configure(EntityTypeBuilder<BackupSetVolume> builder)
    {
        builder.ToTable("BackupSetVolumes");
        builder.HasKey(v => new { v.SetId, v.VolumeName });
        builder.Property(v => v.VolumeName).HasMaxLength(255);
        builder.Property(v => v.FileName).HasMaxLength(300);
        builder.Property(v => v.Sha256).HasMaxLength(64);
    }
}

internal sealed class BackupScheduleConfiguration : IEntityTypeConfiguration<BackupSchedule>
{
    public void Configure(EntityTypeBuilder<BackupSchedule> builder)
    {
        builder.ToTable("BackupSchedules");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.HasIndex(s => s.Name).IsUnique();
        builder.Property(s => s.Cron).HasMaxLength(100);
        builder.Property(s => s.TimeZone).HasMaxLength(64);
        builder.Property(s => s.Mode).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.CreatedBy).HasMaxLength(256);
    }
}
