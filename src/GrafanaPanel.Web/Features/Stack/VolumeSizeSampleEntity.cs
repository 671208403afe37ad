using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>The measured size of one lab volume at one measurement of the stack's volumes.</summary>
public sealed class VolumeSizeSampleEntity
{
    public const int VolumeNameMaxLength = 255;

    public long Id { get; set; }

    /// <summary>When the daemon's disk usage was read; every volume of one measurement has the same time.</summary>
    public DateTimeOffset At { get; set; }

    public string VolumeName { get; set; } = "";

    public long SizeBytes { get; set; }
}

public sealed class VolumeSizeSampleEntityConfiguration : IEntityTypeConfiguration<VolumeSizeSampleEntity>
{
    public void Configure(EntityTypeBuilder<VolumeSizeSampleEntity> sample)
    {
        sample.ToTable("VolumeSizeSamples");
        sample.Property(s => s.At).HasColumnType("timestamp with time zone");
        sample.Property(s => s.VolumeName).HasMaxLength(VolumeSizeSampleEntity.VolumeNameMaxLength);
        sample.HasIndex(s => s.At);
    }
}
