using GrafanaPanel.Web.Features.Accounts;

namespace GrafanaPanel.Web.Features.Audit;

public static class AuditedRoleCheck
{
    /// <summary>
    /// The role check at the start of an audited action: the acting user's name when they hold the role, else the
    /// refusal recorded in the audit log (who tried, what, on which target) and rethrown for the page to show.
    /// </summary>
    public static async Task<string> RequireAuditedAsync(this RoleGate gate, string minimumRole, IAuditLog audit, string action, string target, CancellationToken ct)
    {
        try
        {
            var user = await gate.RequireAsync(minimumRole, ct);
            return user.Email ?? user.UserName ?? user.Id;
        }
        catch (PanelAccessDeniedException ex)
        {
            // Not the caller's token: a cancelled request must still leave its trace.
            await audit.RecordAsync(new AuditRecord(await gate.CurrentUserNameAsync(), action, target, false, ex.Message), CancellationToken.None);
            throw;
        }
    }
}
