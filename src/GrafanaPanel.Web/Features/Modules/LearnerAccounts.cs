using System.Globalization;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>How many learners to create, in how many teams (0: none), and their role in their team's organization.</summary>
public sealed record LearnerRequest(int Count, int Teams = 0, string Role = "Editor");

/// <summary>
/// What happened to one learner of a batch. <see cref="Password"/> is set whenever the account exists in Grafana
/// (also when a later step failed) and is shown once: it is kept nowhere.
/// </summary>
public sealed record LearnerOutcome(string Login, string? Team, bool Succeeded, string? Password, string? Error);

public enum LearnerState
{
    /// <summary>Grafana has the user with the recorded login.</summary>
    Present,

    /// <summary>Grafana has no user with the recorded id any more (deleted in Grafana, or Grafana's data was reset).</summary>
    Gone,

    /// <summary>Grafana's user with the recorded id has another login: Grafana's data was reset and the id reused.</summary>
    Replaced,

    /// <summary>Grafana could not be asked.</summary>
    Unknown,
}

public sealed record LearnerView(long RecordId, string Login, string? Team, int GrafanaUserId, DateTimeOffset CreatedAt, string CreatedBy,
    LearnerState State, string? StateDetail);

public sealed record LearnerRemoval(string Login, bool Succeeded, string Message);

/// <summary>Thrown when a learner request is refused before anything is created; the message says why.</summary>
public sealed class LearnerRequestRejectedException(string message) : PanelRefusalException(message);

/// <summary>Learner accounts as the learners page uses them (a seam for component tests).</summary>
public interface ILearnerAccounts
{
    Task<IReadOnlyList<LearnerOutcome>> CreateAsync(LearnerRequest request, CancellationToken ct);

    Task<IReadOnlyList<LearnerView>> ListAsync(CancellationToken ct);

    Task<IReadOnlyList<LearnerRemoval>> RemoveAsync(IReadOnlyCollection<long> recordIds, CancellationToken ct);

    Task<IReadOnlyList<LearnerRemoval>> RemoveAllAsync(CancellationToken ct);
}

/// <summary>
/// Learner accounts in Grafana for Module 4, through Grafana's admin API: created in batches (optionally one
/// organization per team), listed and removed. The portal records each user it created (id and login, never the
/// password) and only ever lists or removes those; a user whose id now belongs to someone else is never deleted.
/// Instructors and Admins only, checked at each action; every account created or removed is audited, and every
/// failure is reported for the user it concerns.
/// </summary>
public sealed class LearnerAccounts(
    IDbContextFactory<PanelDbContext> dbFactory,
    IGrafanaApi grafana,
    RoleGate gate,
    IAuditLog audit,
    TimeProvider time) : ILearnerAccounts
{
    /// <summary>Every learner login starts with this; it marks an account as the portal's in Grafana's user list.</summary>
    public const string LoginPrefix = "learner-";

    public const int MaxBatch = 50;
    public const int MaxTeams = 20;
    public const string TeamPrefix = "Learners · Team ";

    /// <summary>The e-mail domain of learner accounts: reserved (RFC 2606), so Grafana can never mail anyone.</summary>
    public const string EmailDomain = "learners.invalid";

    public static IReadOnlyList<string> Roles { get; } = ["Viewer", "Editor", "Admin"];

    // One batch at a time in this portal: numbering reads the recorded logins, and two batches would pick the same.
    private static readonly SemaphoreSlim Batch = new(1, 1);

    public async Task<IReadOnlyList<LearnerOutcome>> CreateAsync(LearnerRequest request, CancellationToken ct)
    {
        var actor = await RequireInstructorAsync(AuditActions.LearnerCreate, $"{request.Count} learners", ct);
        if (request.Count is < 1 or > MaxBatch)
        {
            throw await RefuseAsync(actor, AuditActions.LearnerCreate, $"{request.Count} learners", $"Create between 1 and {MaxBatch} learners at a time.");
        }

        if (request.Teams < 0 || request.Teams > Math.Min(MaxTeams, request.Count))
        {
            throw await RefuseAsync(actor, AuditActions.LearnerCreate, $"{request.Count} learners",
                $"Teams must be between 0 (no team organizations) and {Math.Min(MaxTeams, request.Count)} (at most one per learner, at most {MaxTeams}).");
        }

        if (!Roles.Contains(request.Role))
        {
            throw await RefuseAsync(actor, AuditActions.LearnerCreate, $"{request.Count} learners",
                $"Unknown role '{request.Role}'; choose one of {string.Join(", ", Roles)}.");
        }

        await Batch.WaitAsync(ct);
        try
        {
            var next = await NextNumberAsync(ct);
            var teams = new Dictionary<int, (string Name, int? OrgId, string? Error)>();
            for (var t = 1; t <= request.Teams; t++)
            {
                var name = TeamPrefix + t.ToString(CultureInfo.InvariantCulture);
                try
                {
                    teams[t] = (name, await EnsureTeamAsync(name, ct), null);
                }
                catch (Exception ex) when (ex is GrafanaApiException or LearnerRequestRejectedException or DbUpdateException)
                {
                    teams[t] = (name, null, ex.Message);
                }
            }

            var outcomes = new List<LearnerOutcome>(request.Count);
            for (var i = 0; i < request.Count; i++)
            {
                var number = (next + i).ToString("D2", CultureInfo.InvariantCulture);
                var team = request.Teams > 0 ? teams[i % request.Teams + 1] : default((string Name, int? OrgId, string? Error)?);
                var outcome = await CreateOneAsync(LoginPrefix + number, $"Learner {number}", team, request.Role, actor, ct);
                outcomes.Add(outcome);
                await audit.RecordAsync(new AuditRecord(actor, AuditActions.LearnerCreate,
                    outcome.Team is null ? outcome.Login : $"{outcome.Login} ({outcome.Team})", outcome.Succeeded, outcome.Error), CancellationToken.None);
            }

            return outcomes;
        }
        finally
        {
            Batch.Release();
        }
    }

    public async Task<IReadOnlyList<LearnerView>> ListAsync(CancellationToken ct)
    {
        await gate.RequireAsync(PanelRoles.Instructor, ct);
        List<LearnerAccount> records;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            records = await db.LearnerAccounts.AsNoTracking().ToListAsync(ct);
        }

        var views = new List<LearnerView>(records.Count);
        string? unreachable = null;
        foreach (var record in records.OrderBy(r => r.Login.Length).ThenBy(r => r.Login, StringComparer.Ordinal))
        {
            var (state, detail) = unreachable is null ? await StateOfAsync(record, ct) : (LearnerState.Unknown, unreachable);
            if (state == LearnerState.Unknown)
            {
                // Grafana down or the credentials wrong: the same answer for everyone, so ask no more.
                unreachable = detail;
            }

            views.Add(new LearnerView(record.Id, record.Login, record.Team, record.GrafanaUserId, record.CreatedAt, record.CreatedBy, state, detail));
        }

        return views;
    }

    public async Task<IReadOnlyList<LearnerRemoval>> RemoveAllAsync(CancellationToken ct)
    {
        await RequireInstructorAsync(AuditActions.LearnerRemove, "all learners", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.LearnerAccounts.Select(a => a.Id).ToListAsync(ct);
        return await RemoveAsync(ids, ct);
    }

    /// <summary>Removes the learners with these record ids from Grafana, then team organizations no learner is left in.</summary>
    public async Task<IReadOnlyList<LearnerRemoval>> RemoveAsync(IReadOnlyCollection<long> recordIds, CancellationToken ct)
    {
        var actor = await RequireInstructorAsync(AuditActions.LearnerRemove, $"{recordIds.Count} learners", ct);
        await Batch.WaitAsync(ct);
        try
        {
            var results = new List<LearnerRemoval>();
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var records = await db.LearnerAccounts.Where(a => recordIds.Contains(a.Id)).ToListAsync(ct);
            foreach (var record in records.OrderBy(r => r.Login.Length).ThenBy(r => r.Login, StringComparer.Ordinal))
            {
                var removal = await RemoveOneAsync(record, ct);
                if (removal.Succeeded)
                {
                    db.LearnerAccounts.Remove(record);
                    await db.SaveChangesAsync(ct);
                }

                results.Add(removal);
                await audit.RecordAsync(new AuditRecord(actor, AuditActions.LearnerRemove, record.Login, removal.Succeeded,
                    removal.Succeeded ? null : removal.Message), CancellationToken.None);
            }

            results.AddRange(await RemoveEmptyTeamsAsync(db, actor, ct));
            return results;
        }
        finally
        {
            Batch.Release();
        }
    }

    private async Task<LearnerOutcome> CreateOneAsync(string login, string name, (string Name, int? OrgId, string? Error)? team, string role,
        string actor, CancellationToken ct)
    {
        var password = LearnerPasswords.Generate();
        int userId;
        try
        {
            userId = await grafana.CreateUserAsync(new GrafanaNewUser(login, $"{login}@{EmailDomain}", name, password), ct);
        }
        catch (GrafanaApiException ex)
        {
            return new LearnerOutcome(login, team?.Name, false, null, $"Not created: {ex.Message}");
        }

        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.LearnerAccounts.Add(new LearnerAccount
            {
                GrafanaUserId = userId,
                Login = login,
                Team = team?.Name,
                GrafanaOrgId = team?.OrgId,
                CreatedAt = time.GetUtcNow().ToUniversalTime(),
                CreatedBy = actor,
            });
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex)
        {
            return new LearnerOutcome(login, team?.Name, false, password,
                $"Created in Grafana (user id {userId}), but the portal could not record it ({ex.GetBaseException().Message}), " +
                "so it will not list or remove it: remove it in Grafana under Administration → Users.");
        }

        if (team is not { } t)
        {
            return new LearnerOutcome(login, null, true, password, null);
        }

        if (t.OrgId is not { } orgId)
        {
            return new LearnerOutcome(login, t.Name, false, password, $"Created, but not added to {t.Name}: {t.Error}");
        }

        try
        {
            await grafana.AddOrgUserAsync(orgId, login, role, ct);
            return new LearnerOutcome(login, t.Name, true, password, null);
        }
        catch (GrafanaApiException ex)
        {
            return new LearnerOutcome(login, t.Name, false, password, $"Created, but not added to {t.Name}: {ex.Message}");
        }
    }

    /// <summary>The organization of a team: the portal's own when it has it, else a new one; never someone else's.</summary>
    private async Task<int> EnsureTeamAsync(string name, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.LearnerTeams.FirstOrDefaultAsync(t => t.Name == name, ct);
        if (await grafana.FindOrgAsync(name, ct) is { } existing)
        {
            return record?.GrafanaOrgId == existing
                ? existing
                : throw new LearnerRequestRejectedException(
                    $"Grafana has an organization named '{name}' that the portal did not create; rename or delete it in Grafana, or create learners without teams.");
        }

        var orgId = await grafana.CreateOrgAsync(name, ct);
        if (record is null)
        {
            db.LearnerTeams.Add(new LearnerTeam { Name = name, GrafanaOrgId = orgId, CreatedAt = time.GetUtcNow().ToUniversalTime() });
        }
        else
        {
            // The record outlived its organization (Grafana's data was reset): it now stands for the new one.
            record.GrafanaOrgId = orgId;
        }

        await db.SaveChangesAsync(ct);
        return orgId;
    }

    private async Task<LearnerRemoval> RemoveOneAsync(LearnerAccount record, CancellationToken ct)
    {
        if (!record.Login.StartsWith(LoginPrefix, StringComparison.Ordinal))
        {
            return new LearnerRemoval(record.Login, false, $"{record.Login} is not a learner login; the portal removes only {LoginPrefix}… accounts.");
        }

        try
        {
            var user = await grafana.FindUserAsync(record.GrafanaUserId, ct);
            if (user is null)
            {
                return new LearnerRemoval(record.Login, true, $"{record.Login} was already gone from Grafana; its record was removed.");
            }

            if (!string.Equals(user.Login, record.Login, StringComparison.Ordinal))
            {
                return new LearnerRemoval(record.Login, true,
                    $"Grafana's user {record.GrafanaUserId} is now '{user.Login}', not {record.Login} (Grafana's data was reset): nothing was deleted in Grafana; the stale record was removed.");
            }

            await grafana.DeleteUserAsync(record.GrafanaUserId, ct);
            return new LearnerRemoval(record.Login, true, $"{record.Login} was removed from Grafana.");
        }
        catch (GrafanaApiException ex)
        {
            return new LearnerRemoval(record.Login, false, $"{record.Login} was not removed: {ex.Message}");
        }
    }

    private async Task<List<LearnerRemoval>> RemoveEmptyTeamsAsync(PanelDbContext db, string actor, CancellationToken ct)
    {
        var results = new List<LearnerRemoval>();
        var used = await db.LearnerAccounts.Where(a => a.GrafanaOrgId != null).Select(a => a.GrafanaOrgId!.Value).Distinct().ToListAsync(ct);
        var empty = await db.LearnerTeams.Where(t => !used.Contains(t.GrafanaOrgId)).ToListAsync(ct);
        foreach (var team in empty)
        {
            LearnerRemoval removal;
            try
            {
                // Delete only the organization the portal created: same name and the recorded id.
                if (await grafana.FindOrgAsync(team.Name, ct) == team.GrafanaOrgId)
                {
                    await grafana.DeleteOrgAsync(team.GrafanaOrgId, ct);
                    removal = new LearnerRemoval(team.Name, true, $"The organization {team.Name} was removed from Grafana.");
                }
                else
                {
                    removal = new LearnerRemoval(team.Name, true, $"The organization {team.Name} was already gone from Grafana; its record was removed.");
                }

                db.LearnerTeams.Remove(team);
                await db.SaveChangesAsync(ct);
            }
            catch (GrafanaApiException ex)
            {
                removal = new LearnerRemoval(team.Name, false, $"The organization {team.Name} was not removed: {ex.Message}");
            }

            results.Add(removal);
            await audit.RecordAsync(new AuditRecord(actor, AuditActions.LearnerTeamRemove, team.Name, removal.Succeeded,
                removal.Succeeded ? null : removal.Message), CancellationToken.None);
        }

        return results;
    }

    private async Task<(LearnerState, string?)> StateOfAsync(LearnerAccount record, CancellationToken ct)
    {
        try
        {
            var user = await grafana.FindUserAsync(record.GrafanaUserId, ct);
            return user is null
                ? (LearnerState.Gone, $"Grafana has no user {record.GrafanaUserId} any more.")
                : user.Login == record.Login
                    ? (LearnerState.Present, null)
                    : (LearnerState.Replaced, $"Grafana's user {record.GrafanaUserId} is now '{user.Login}' (Grafana's data was reset).");
        }
        catch (GrafanaApiException ex)
        {
            return (LearnerState.Unknown, ex.Message);
        }
    }

    /// <summary>One after the highest learner number the portal has recorded (learner-07 → 8), from 1.</summary>
    private async Task<int> NextNumberAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var logins = await db.LearnerAccounts.Select(a => a.Login).ToListAsync(ct);
        var highest = logins
            .Select(l => l.StartsWith(LoginPrefix, StringComparison.Ordinal) && int.TryParse(l.AsSpan(LoginPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0)
            .Max();
        return highest + 1;
    }

    private Task<string> RequireInstructorAsync(string action, string target, CancellationToken ct) =>
        gate.RequireAuditedAsync(PanelRoles.Instructor, audit, action, target, ct);

    private async Task<LearnerRequestRejectedException> RefuseAsync(string actor, string action, string target, string message)
    {
        await audit.RecordAsync(new AuditRecord(actor, action, target, false, message), CancellationToken.None);
        return new LearnerRequestRejectedException(message);
    }
}
