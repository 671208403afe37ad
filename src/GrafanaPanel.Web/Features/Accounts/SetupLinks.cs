using System.Security.Cryptography;
using System.Text;
using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>
/// A one-time link to create the first Admin, issued on the host by <c>setup-link</c>. Only the SHA-256 of the
/// token is stored, so the database (and a copy of it) never holds a working link.
/// </summary>
public sealed class SetupLinkToken
{
    public int Id { get; set; }

    public byte[] Hash { get; set; } = [];

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}

public sealed class SetupLinkTokenConfiguration : IEntityTypeConfiguration<SetupLinkToken>
{
    public void Configure(EntityTypeBuilder<SetupLinkToken> token)
    {
        token.ToTable("SetupLinkTokens");
        token.HasKey(t => t.Id);
        token.Property(t => t.Hash).HasMaxLength(32);
        token.HasIndex(t => t.Hash).IsUnique();
        token.Property(t => t.IssuedAt).HasColumnType("timestamp with time zone");
        token.Property(t => t.ExpiresAt).HasColumnType("timestamp with time zone");
        token.Property(t => t.UsedAt).HasColumnType("timestamp with time zone");
    }
}

/// <summary>What a setup link is worth now.</summary>
public enum SetupLinkState
{
    /// <summary>Issued, not used, not expired, and no Admin exists: it may create the first Admin.</summary>
    Valid,

    /// <summary>Older than <see cref="SetupLinks.Lifetime"/>.</summary>
    Expired,

    /// <summary>It created an Admin already.</summary>
    Used,

    /// <summary>Never issued, mistyped, or replaced by a newer link.</summary>
    Unknown,

    /// <summary>An Admin exists: setup links are only for the first one.</summary>
    AdminExists,
}

/// <summary>What the setup page asks of a link (a seam for component tests).</summary>
public interface ISetupLinkCheck
{
    Task<SetupLinkState> CheckAsync(string? token, CancellationToken ct);
}

/// <summary>Thrown when a setup link is asked for while an Admin exists; the message says what to do instead.</summary>
public sealed class AdminExistsException(string message) : PanelRefusalException(message)
{
    public override int StatusCode => StatusCodes.Status409Conflict;
}

/// <summary>
/// Issues and redeems the first-Admin setup links, shared by the running portal and the host command through the
/// database. Issuing and redeeming hold one PostgreSQL advisory lock, so two requests (or two processes) never create
/// two first Admins or redeem one link twice.
/// </summary>
public sealed class SetupLinks(PanelDbContext db, TimeProvider time) : ISetupLinkCheck
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    public const string SetupPath = "/account/setup";

    // Any constant works; it only has to differ from the migration lock's.
    private const long SetupLockKey = 0x4772_6166_5365_7475; // "GrafSetu"

    /// <summary>Issues a new token (any earlier one stops working) and returns it; refuses while an Admin exists.</summary>
    public async Task<string> IssueAsync(CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await LockAsync(ct);
        if (await AdminExistsAsync(ct))
        {
            throw new AdminExistsException(
                "An Admin exists already, so no setup link is issued: setup links only create the first Admin. " +
                "Sign in as an Admin and add users on the Users page; an Admin who is locked out is unlocked on the host " +
                "with the unlock-admin command.");
        }

        await db.SetupLinkTokens.ExecuteDeleteAsync(ct);
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var now = time.GetUtcNow();
        db.SetupLinkTokens.Add(new SetupLinkToken { Hash = HashOf(token), IssuedAt = now, ExpiresAt = now + Lifetime });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return token;
    }

    public async Task<SetupLinkState> CheckAsync(string? token, CancellationToken ct)
    {
        if (await AdminExistsAsync(ct))
        {
            return SetupLinkState.AdminExists;
        }

        return StateOf(await FindAsync(token, ct));
    }

    /// <summary>
    /// Runs <paramref name="createAdmin"/> when the token is valid, and uses the token up only when it succeeded, in one
    /// transaction: a refused password leaves the link working, a created Admin leaves it used.
    /// </summary>
    public async Task<(SetupLinkState State, IdentityResult? Created)> RedeemAsync(
        string? token, Func<Task<IdentityResult>> createAdmin, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await LockAsync(ct);
        if (await AdminExistsAsync(ct))
        {
            return (SetupLinkState.AdminExists, null);
        }

        var row = await FindAsync(token, ct);
        var state = StateOf(row);
        if (state != SetupLinkState.Valid)
        {
            return (state, null);
        }

        var created = await createAdmin();
        if (!created.Succeeded)
        {
            await transaction.RollbackAsync(ct);
            return (state, created);
        }

        row!.UsedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (state, created);
    }

    /// <summary>The page's words for a link that cannot be used, each saying what to do next.</summary>
    public static string Explain(SetupLinkState state) => state switch
    {
        SetupLinkState.Expired =>
            "This setup link has expired (links work for 30 minutes). Get a new one on the host: " + HowToGetALink,
        SetupLinkState.Used =>
            "This setup link has been used already; each link works once. Sign in with the Admin it created.",
        SetupLinkState.AdminExists =>
            "An Admin exists already, so setup links no longer work. Sign in; an Admin adds other users on the Users page.",
        _ => "This setup link is not valid (mistyped, or replaced by a newer link). Get a new one on the host: " + HowToGetALink,
    };

    /// <summary>How someone with access to the host gets a link; written to the log instead of any link.</summary>
    public const string HowToGetALink =
        "run `scripts/run-portal.sh setup-link` (local run) or `docker compose exec panel dotnet GrafanaPanel.Web.dll setup-link` (compose); " +
        "it prints a link that works once, for 30 minutes.";

    private async Task LockAsync(CancellationToken ct) =>
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [SetupLockKey], ct);

    private async Task<bool> AdminExistsAsync(CancellationToken ct) =>
        await (from userRole in db.UserRoles
               join role in db.Roles on userRole.RoleId equals role.Id
               where role.Name == PanelRoles.Admin
               select userRole).AnyAsync(ct);

    private async Task<SetupLinkToken?> FindAsync(string? token, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return null;
        }

        var hash = HashOf(token);
        return await db.SetupLinkTokens.FirstOrDefaultAsync(t => t.Hash == hash, ct);
    }

    private SetupLinkState StateOf(SetupLinkToken? row) =>
        row is null ? SetupLinkState.Unknown
        : row.UsedAt is not null ? SetupLinkState.Used
        : row.ExpiresAt <= time.GetUtcNow() ? SetupLinkState.Expired
        : SetupLinkState.Valid;

    private static byte[] HashOf(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
