using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>A stored <see cref="ProbeSample"/>.</summary>
public sealed class ProbeSampleEntity
{
    public const int ServiceMaxLength = 128;
    public const int MessageMaxLength = 1024;

    public long Id { get; set; }

    public string Service { get; set; } = "";

    public DateTimeOffset At { get; set; }

    public bool Healthy { get; set; }

    public int LatencyMs { get; set; }

    public string? Message { get; set; }

    public static ProbeSampleEntity From(ProbeSample sample) => new()
    {
        Service = sample.Service,
        // Npgsql writes only UTC offsets to timestamptz.
        At = sample.At.ToUniversalTime(),
        Healthy = sample.Healthy,
        LatencyMs = sample.LatencyMs,
        // A probe's message can be a whole error page; the heartbeat bar needs its start.
        Message = sample.Message is { Length: > MessageMaxLength } text ? text[..MessageMaxLength] : sample.Message,
    };
}

public sealed class ProbeSampleEntityConfiguration : IEntityTypeConfiguration<ProbeSampleEntity>
{
    public void Configure(EntityTypeBuilder<ProbeSampleEntity> sample)
    {
        sample.ToTable("ProbeSamples");
        sample.Property(s => s.Service).HasMaxLength(ProbeSampleEntity.ServiceMaxLength);
        sample.Property(s => s.At).HasColumnType("timestamp with time zone");
        sample.Property(s => s.Message).HasMaxLength(ProbeSampleEntity.MessageMaxLength);
        sample.HasIndex(s => new { s.Service, s.At });
    }
}
