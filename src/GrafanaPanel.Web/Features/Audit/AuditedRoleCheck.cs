using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using Microsoft.EntityFrameworkCore;

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

    /// <summary>
    /// A whole audited action: the role check (refusals recorded), then <paramref name="work"/> with the acting
    /// user's name, recorded as succeeded, or as failed with its error, which is rethrown for the page to show.
    /// </summary>
    public static async Task<T> RunAuditedAsync<T>(
        this RoleGate gate, string minimumRole, IAuditLog audit, string action, string target, Func<string, Task<T>> work, CancellationToken ct)
    {
        var user = await gate.RequireAuditedAsync(minimumRole, audit, action, target, ct);
        try
        {
            var result = await work(user);
            await audit.RecordAsync(new AuditRecord(user, action, target, true), CancellationToken.None);
            return result;
        }
        catch (Exception ex)
        {
            await audit.RecordAsync(new AuditRecord(user, action, target, false, ex.Message), CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// As <see cref="RunAuditedAsync{T}"/>, with a database context of the action's own (a circuit outlives many
    /// actions, and two of them may overlap).
    /// </summary>
    public static Task<T> RunAuditedAsync<T>(
        this RoleGate gate, string minimumRole, IAuditLog audit, IDbContextFactory<PanelDbContext> dbs, string action, string target,
        Func<string, PanelDbContext, Task<T>> work, CancellationToken ct) =>
        gate.RunAuditedAsync(minimumRole, audit, action, target, async user =>
        {
            await using var db = await dbs.CreateDbContextAsync(ct);
            return await work(user, db);
        }, ct);
}
