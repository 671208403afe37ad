using System.Security.Cryptography;
using System.Text;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>A token request the portal refuses (no name, a scope above the user's role, an expiry out of range).</summary>
public sealed class AccessTokenRefusedException(string message, string field) : PanelRefusalException(message)
{
    /// <summary>The input the refusal is about (name, scope, expiresInDays).</summary>
    public string Field { get; } = field;
}

/// <summary>What the profile page shows of a token (never its secret).</summary>
public sealed record AccessTokenView(
    Guid Id, string Name, string Scope, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;
}

/// <summary>A new token and its secret, which exists only in this object and the page that shows it once.</summary>
public sealed record CreatedAccessToken(AccessTokenView Token, string Secret);

/// <summary>
/// The signed-in user's personal access tokens: create (the secret is returned once, only its hash is stored), list,
/// revoke. Every change is audited. A token acts with the lower of its scope and its owner's role at each request.
/// </summary>
public sealed class AccessTokens(IDbContextFactory<PanelDbContext> dbs, RoleGate gate, IAuditLog audit, TimeProvider time)
{
    public const string SecretPrefix = "gp_";
    public const int MaxLifetimeDays = 366;
    public const int MaxNameLength = 100;

    /// <summary>The lifetimes the profile page offers, in days.</summary>
    public static IReadOnlyList<int> OfferedLifetimes { get; } = [7, 30, 90, 365];

    public async Task<IReadOnlyList<AccessTokenView>> ListAsync(CancellationToken ct = default)
    {
        var user = await gate.RequireAsync(PanelRoles.Viewer, ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var tokens = await db.AccessTokens.AsNoTracking().Where(t => t.UserId == user.Id).ToListAsync(ct);
        return [.. tokens.OrderByDescending(t => t.CreatedAt).Select(View)];
    }

    public Task<CreatedAccessToken> CreateAsync(string name, string scope, int expiresInDays, CancellationToken ct = default) =>
        gate.RunAuditedAsync(PanelRoles.Viewer, audit, ApiAuditActions.TokenCreate, $"{Trimmed(name)} ({scope})", async actor =>
        {
            var user = await gate.RequireAsync(PanelRoles.Viewer, ct);
            if (await gate.ActsThroughTokenAsync())
            {
                // A token making tokens would outlive its own expiry and revocation.
                throw new PanelAccessDeniedException("A token cannot create tokens; sign in and create them on your profile page.");
            }

            var trimmed = Trimmed(name);
            if (trimmed.Length == 0)
            {
                throw new AccessTokenRefusedException("Give the token a name (what will use it, e.g. \"nightly reset\").", "name");
            }

            if (trimmed.Length > MaxNameLength || trimmed.Any(char.IsControl))
            {
                throw new AccessTokenRefusedException($"The name must be at most {MaxNameLength} printable characters.", "name");
            }

            if (!PanelRoles.IsKnown(scope))
            {
                throw new AccessTokenRefusedException($"The scope must be one of {string.Join(", ", PanelRoles.All)} (Viewer: read-only).", "scope");
            }

            var role = await gate.RoleOfAsync(user);
            if (PanelRoles.Rank(scope) > PanelRoles.Rank(role))
            {
                throw new AccessTokenRefusedException($"A token's scope can be at most your own role ({role}).", "scope");
            }

            if (expiresInDays is < 1 or > MaxLifetimeDays)
            {
                throw new AccessTokenRefusedException($"The token must expire in 1 to {MaxLifetimeDays} days.", "expiresInDays");
            }

            await using var db = await dbs.CreateDbContextAsync(ct);
            if (await db.AccessTokens.AnyAsync(t => t.UserId == user.Id && t.Name == trimmed && t.RevokedAt == null && t.ExpiresAt > time.GetUtcNow(), ct))
            {
                throw new AccessTokenRefusedException($"You have an active token named \"{trimmed}\"; choose another name or revoke it first.", "name");
            }

            var secret = NewSecret();
            var now = time.GetUtcNow();
            var token = new AccessToken
            {
                Id = Guid.NewGuid(),
                UserId = user.Id,
                Name = trimmed,
                Scope = scope,
                Hash = HashOf(secret),
                Prefix = secret[SecretPrefix.Length..(SecretPrefix.Length + 6)],
                CreatedAt = now,
                ExpiresAt = now.AddDays(expiresInDays),
            };
            db.AccessTokens.Add(token);
            await db.SaveChangesAsync(ct);
            return new CreatedAccessToken(View(token), secret);
        }, ct);

    public Task RevokeAsync(Guid tokenId, CancellationToken ct = default) =>
        gate.RunAuditedAsync(PanelRoles.Viewer, audit, ApiAuditActions.TokenRevoke, tokenId.ToString(), async _ =>
        {
            var user = await gate.RequireAsync(PanelRoles.Viewer, ct);
            await using var db = await dbs.CreateDbContextAsync(ct);
            // Only the owner's own tokens: another user's id is as unknown as a made-up one.
            var token = await db.AccessTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == user.Id, ct)
                ?? throw new AccessTokenRefusedException("You have no token with that id.", "id") { StatusCode = StatusCodes.Status404NotFound };
            token.RevokedAt ??= time.GetUtcNow();
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);

    /// <summary>A new secret: <c>gp_</c> and 32 random bytes, base64url (256 bits; a hash without salt is enough).</summary>
    public static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] HashOf(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static AccessTokenView View(AccessToken t) => new(t.Id, t.Name, t.Scope, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt);

    private static string Trimmed(string? name) => name?.Trim() ?? "";
}
