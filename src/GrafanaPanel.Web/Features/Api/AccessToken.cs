using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>
/// A personal access token for <c>/api/v1</c>: its owner, a name, a scope (a role no higher than the owner's) and an
/// expiry. Only the SHA-256 of the secret is stored; the secret itself is shown once, when the token is created.
/// </summary>
public sealed class AccessToken
{
    public Guid Id { get; set; }

    public string UserId { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>The highest role the token acts with (Viewer: read-only); the owner's role as of each request caps it.</summary>
    public string Scope { get; set; } = "";

    public byte[] Hash { get; set; } = [];

    /// <summary>The first characters of the secret after <c>gp_</c>, to recognise a token in the list (not enough to use it).</summary>
    public string Prefix { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

public sealed class AccessTokenConfiguration : IEntityTypeConfiguration<AccessToken>
{
    public void Configure(EntityTypeBuilder<AccessToken> token)
    {
        token.ToTable("AccessTokens");
        token.HasKey(t => t.Id);
        token.Property(t => t.UserId).HasMaxLength(450);
        token.HasOne<Data.PanelUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        token.Property(t => t.Name).HasMaxLength(100);
        token.Property(t => t.Scope).HasMaxLength(20);
        token.Property(t => t.Hash).HasMaxLength(32);
        token.HasIndex(t => t.Hash).IsUnique();
        token.Property(t => t.Prefix).HasMaxLength(16);
        token.HasIndex(t => t.UserId);
    }
}
