using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Audit;

/// <summary>One stored row of the audit log.</summary>
public sealed class AuditEntry
{
    public const int UserMaxLength = 256;
    public const int ActionMaxLength = 64;
    public const int TargetMaxLength = 512;
    public const int ErrorMaxLength = 4000;

    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    public string User { get; set; } = "";

    public string Action { get; set; } = "";

    public string Target { get; set; } = "";

    public bool Succeeded { get; set; }

    public string? Error { get; set; }

    /// <summary>
    /// A row for a record, cut to the column sizes: an over-long target or error must not cost the whole
    /// entry (PostgreSQL refuses a value longer than its column).
    /// </summary>
    public static AuditEntry From(AuditRecord record, DateTimeOffset at) => new()
    {
        At = at.ToUniversalTime(),
        User = Cut(record.User, UserMaxLength),
        Action = Cut(record.Action, ActionMaxLength),
        Target = Cut(record.Target, TargetMaxLength),
        Succeeded = record.Succeeded,
        Error = record.Error is null ? null : Cut(record.Error, ErrorMaxLength),
    };

    private static string Cut(string? value, int max) =>
        value is null ? "" : value.Length <= max ? value : value[..(max - 1)] + "…";
}

public sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> entry)
    {
        entry.ToTable("AuditEntries");
        entry.Property(e => e.At).HasColumnType("timestamp with time zone");
        entry.Property(e => e.User).HasMaxLength(AuditEntry.UserMaxLength);
        entry.Property(e => e.Action).HasMaxLength(AuditEntry.ActionMaxLength);
        entry.Property(e => e.Target).HasMaxLength(AuditEntry.TargetMaxLength);
        entry.Property(e => e.Error).HasMaxLength(AuditEntry.ErrorMaxLength);
        entry.HasIndex(e => e.At);
        entry.HasIndex(e => e.User);
        entry.HasIndex(e => e.Action);
        entry.HasIndex(e => e.Target);
    }
}
