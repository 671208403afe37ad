using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Accounts;

public sealed record UserSummary(string Id, string Email, string Role, bool IsLockedOut, DateTimeOffset CreatedAt);

/// <summary>Thrown when an account change is refused; the message says what to do.</summary>
public sealed class AccountChangeException(string message) : PanelRefusalException(message);

/// <summary>
/// The Admin page's operations. Every one checks the acting user's role on the server first, and every change
/// (done or refused) is recorded in the audit log.
/// </summary>
public sealed class UserAdministration(UserManager<PanelUser> users, RoleGate gate, IAuditLog audit)
{
    public async Task<IReadOnlyList<UserSummary>> ListAsync(CancellationToken ct = default)
    {
        await gate.RequireAsync(PanelRoles.Admin, ct);
        var all = await users.Users.OrderBy(u => u.Email).ToListAsync(ct);
        var result = new List<UserSummary>(all.Count);
        foreach (var user in all)
        {
            var roles = await users.GetRolesAsync(user);
            result.Add(new UserSummary(user.Id, user.Email ?? user.UserName ?? user.Id, RoleGate.HighestRole(roles),
                await users.IsLockedOutAsync(user), user.CreatedAt));
        }

        return result;
    }

    public async Task CreateAsync(string email, string password, string role, CancellationToken ct = default) =>
        await AuditedAsync(AuditActions.UserCreate, $"{email?.Trim()} as {role}", async _ =>
        {
            RequireKnownRole(role);
            if (string.IsNullOrWhiteSpace(email))
            {
                throw new AccountChangeException("An e-mail address is required.");
            }

            if (await users.FindByEmailAsync(email) is not null)
            {
                throw new AccountChangeException($"A user with the e-mail {email} exists already.");
            }

            var user = new PanelUser { UserName = email.Trim(), Email = email.Trim(), EmailConfirmed = true };
            Check(await users.CreateAsync(user, password));
            Check(await users.AddToRoleAsync(user, role));
        }, ct);

    public async Task SetRoleAsync(string userId, string role, CancellationToken ct = default) =>
        await AuditedAsync(AuditActions.UserSetRole, $"{await DescribeUserAsync(userId)} as {role}", async _ =>
        {
            RequireKnownRole(role);
            var user = await FindAsync(userId);
            var current = await users.GetRolesAsync(user);
            if (current.Contains(PanelRoles.Admin) && role != PanelRoles.Admin)
            {
                await RefuseIfLastAdminAsync(user, "demote");
            }

            Check(await users.RemoveFromRolesAsync(user, current));
            Check(await users.AddToRoleAsync(user, role));
            // A new stamp invalidates the user's cookie at the next validation, so open sessions pick up the change.
            await users.UpdateSecurityStampAsync(user);
        }, ct);

    public async Task LockAsync(string userId, CancellationToken ct = default) =>
        await AuditedAsync(AuditActions.UserLock, await DescribeUserAsync(userId), async actor =>
        {
            var user = await FindAsync(userId);
            if (user.Id == actor.Id)
            {
                throw new AccountChangeException("You cannot lock your own account.");
            }

            if ((await users.GetRolesAsync(user)).Contains(PanelRoles.Admin))
            {
                await RefuseIfLastAdminAsync(user, "lock");
            }

            Check(await users.SetLockoutEnabledAsync(user, true));
            Check(await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue));
            await users.UpdateSecurityStampAsync(user);
        }, ct);

    public async Task UnlockAsync(string userId, CancellationToken ct = default) =>
        await AuditedAsync(AuditActions.UserUnlock, await DescribeUserAsync(userId), async _ =>
        {
            var user = await FindAsync(userId);
            Check(await users.SetLockoutEndDateAsync(user, null));
            Check(await users.ResetAccessFailedCountAsync(user));
        }, ct);

    public async Task ResetPasswordAsync(string userId, string newPassword, CancellationToken ct = default) =>
        await AuditedAsync(AuditActions.UserResetPassword, await DescribeUserAsync(userId), async _ =>
        {
            var user = await FindAsync(userId);
            var token = await users.GeneratePasswordResetTokenAsync(user);
            Check(await users.ResetPasswordAsync(user, token, newPassword));
        }, ct);

    /// <summary>
    /// Checks that the acting user is an Admin now, runs the change, and records it in the audit log with the
    /// actor's e-mail: done, or refused/failed with the message the user sees. The exception still reaches the caller.
    /// </summary>
    private async Task AuditedAsync(string action, string target, Func<PanelUser, Task> change, CancellationToken ct)
    {
        PanelUser? actor = null;
        try
        {
            actor = await gate.RequireAsync(PanelRoles.Admin, ct);
            await change(actor);
        }
        catch (Exception ex)
        {
            var who = actor is null ? await gate.CurrentUserNameAsync() : NameOf(actor);
            // Not the caller's token: a cancelled request must still leave its trace.
            await audit.RecordAsync(new AuditRecord(who, action, target, Succeeded: false, ex.Message), CancellationToken.None);
            throw;
        }

        await audit.RecordAsync(new AuditRecord(NameOf(actor), action, target, Succeeded: true), CancellationToken.None);
    }

    /// <summary>The e-mail of the user an action is about, for the audit log; the id when there is no such user.</summary>
    private async Task<string> DescribeUserAsync(string userId) =>
        (await users.FindByIdAsync(userId)) is { } user ? NameOf(user) : $"user id {userId}";

    private static string NameOf(PanelUser user) => user.Email ?? user.UserName ?? user.Id;

    private async Task<PanelUser> FindAsync(string userId) =>
        await users.FindByIdAsync(userId) ?? throw new AccountChangeException("That user does not exist any more. Reload the list.");

    private async Task RefuseIfLastAdminAsync(PanelUser user, string verb)
    {
        var admins = await users.GetUsersInRoleAsync(PanelRoles.Admin);
        var activeOthers = 0;
        foreach (var admin in admins.Where(a => a.Id != user.Id))
        {
            if (!await users.IsLockedOutAsync(admin))
            {
                activeOthers++;
            }
        }

        if (activeOthers == 0)
        {
            throw new AccountChangeException($"Cannot {verb} {user.Email}: it is the last active Admin. Make another user Admin first.");
        }
    }

    private static void RequireKnownRole(string role)
    {
        if (!PanelRoles.IsKnown(role))
        {
            throw new AccountChangeException($"Unknown role '{role}'. Choose one of {string.Join(", ", PanelRoles.All)}.");
        }
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new AccountChangeException(AdminBootstrapper.Describe(result));
        }
    }
}
