using System.Security.Claims;
using System.Text.Encodings.Web;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>
/// <c>Authorization: Bearer gp_…</c> on <c>/api/v1</c>. The secret's hash is looked up on each request; an unknown,
/// expired or revoked token, or one whose owner is locked out, authenticates nobody (use of a revoked token is audited).
/// The principal carries the owner's id and the token's scope, never a role: <see cref="RoleGate"/> reads the role from
/// the database at each action, so a demotion or a lock takes effect on the next request.
/// </summary>
public sealed partial class AccessTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IDbContextFactory<PanelDbContext> dbs,
    UserManager<PanelUser> users,
    IAuditLog audit,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "AccessToken";
    public const string TokenIdClaim = "gp:token-id";

    /// <summary>Last use is written at most this often per token (a script polling every second writes once a minute).</summary>
    private static readonly TimeSpan LastUseResolution = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerSecret(Request) is not { } secret)
        {
            return AuthenticateResult.NoResult();
        }

        var hash = AccessTokens.HashOf(secret);
        await using var db = await dbs.CreateDbContextAsync(Context.RequestAborted);
        var token = await db.AccessTokens.FirstOrDefaultAsync(t => t.Hash == hash, Context.RequestAborted);
        var now = time.GetUtcNow();
        if (token is null)
        {
            return AuthenticateResult.Fail("The access token is not known. Create one on your profile page.");
        }

        var user = await users.FindByIdAsync(token.UserId);
        if (token.RevokedAt is not null)
        {
            Log.RevokedTokenUsed(Logger, token.Id);
            await audit.RecordAsync(new AuditRecord(user?.Email ?? token.UserId, ApiAuditActions.TokenRevokedUse,
                $"{token.Name} ({token.Id})", false, $"{Request.Method} {Request.Path} from {Context.Connection.RemoteIpAddress}"), CancellationToken.None);
            return AuthenticateResult.Fail("The access token was revoked.");
        }

        if (token.ExpiresAt <= now)
        {
            return AuthenticateResult.Fail($"The access token expired at {token.ExpiresAt:u}. Create a new one on your profile page.");
        }

        if (user is null || await users.IsLockedOutAsync(user))
        {
            return AuthenticateResult.Fail("The token's owner is locked or no longer exists.");
        }

        if (token.LastUsedAt is null || now - token.LastUsedAt >= LastUseResolution)
        {
            token.LastUsedAt = now;
            await db.SaveChangesAsync(CancellationToken.None);
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id),
                new Claim(ClaimTypes.Name, user.Email ?? user.UserName ?? user.Id),
                new Claim(RoleGate.TokenScopeClaim, token.Scope),
                new Claim(TokenIdClaim, token.Id.ToString()),
            ],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    /// <summary>The secret of an <c>Authorization: Bearer gp_…</c> header, or null.</summary>
    public static string? BearerSecret(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var secret = header[bearer.Length..].Trim();
        return secret.StartsWith(AccessTokens.SecretPrefix, StringComparison.Ordinal) && secret.Length <= 100 ? secret : null;
    }

    /// <summary>Whether a request is one a token may authenticate: <c>/api/v1</c> with a bearer header (never a page or the hub).</summary>
    public static bool AppliesTo(HttpRequest request) =>
        request.Path.StartsWithSegments(ApiRoutes.Prefix) && request.Headers.Authorization.Count > 0;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "A revoked access token {TokenId} was presented")]
        public static partial void RevokedTokenUsed(ILogger logger, Guid tokenId);
    }
}
