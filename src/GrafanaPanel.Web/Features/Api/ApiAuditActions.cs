namespace GrafanaPanel.Web.Features.Api;

/// <summary>The audit actions of personal access tokens.</summary>
public static class ApiAuditActions
{
    public const string TokenCreate = "token.create";
    public const string TokenRevoke = "token.revoke";

    /// <summary>A request that presented a revoked token (who it belonged to, which token, from where).</summary>
    public const string TokenRevokedUse = "token.revoked-use";
}
