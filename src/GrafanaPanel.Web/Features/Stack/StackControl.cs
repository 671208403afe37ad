using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Hangfire;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Stack;

public enum ServiceAction
{
    Start,
    Stop,
    Restart,
}

/// <summary>Thrown when a service action is refused before anything is sent to the daemon; the message says why.</summary>
public sealed class StackActionRefusedException(string message) : PanelRefusalException(message);

/// <summary>Service and whole-stack actions, as the pages call them (a seam for component tests).</summary>
public interface IStackControl
{
    Task<string> RunAsync(string serviceName, ServiceAction action, CancellationToken ct = default);

    Task<string> RunStackAsync(ServiceAction action, IProgress<string>? progress = null, CancellationToken ct = default);
}

/// <summary>
/// Starts, stops and restarts services and the whole stack. Every action checks the acting user's role at that
/// moment, resolves the service by exact name against the snapshot (so only containers of this compose project are
/// ever touched, and the portal's own services never are), and is written to the audit log with its outcome.
/// </summary>
public sealed class StackControl(
    IDockerEngine engine,
    StackSnapshot snapshot,
    StackLock stackLock,
    RoleGate gate,
    IAuditLog audit,
    IBackgroundJobClient jobs,
    StackOperations operations,
    IOptions<StackOptions> options) : IStackControl
{
    private readonly StackOptions _options = options.Value;

    /// <summary>Runs one action on one service; returns what happened in words.</summary>
    public async Task<string> RunAsync(string serviceName, ServiceAction action, CancellationToken ct = default)
    {
        var verb = Verb(action);
        var actor = await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, AuditActions.Service(verb), Printable(serviceName), ct);
        ServiceView service;
        try
        {
            service = Resolve(serviceName, action);
        }
        catch (StackActionRefusedException ex)
        {
            await audit.RecordAsync(new AuditRecord(actor, AuditActions.Service(verb), Printable(serviceName), false, ex.Message), ct);
            throw;
        }

        try
        {
            await ApplyAsync(service, action, ct);
            await audit.RecordAsync(new AuditRecord(actor, AuditActions.Service(verb), service.Name, true), ct);
            return $"{service.Name}: {Past(action)}.";
        }
        catch (Exception ex) when (ex is DockerUnavailableException or DockerOperationException or DockerNotFoundException)
        {
            await audit.RecordAsync(new AuditRecord(actor, AuditActions.Service(verb), service.Name, false, ex.Message), ct);
            throw;
        }
    }

    /// <summary>
    /// Starts, stops or restarts every service of the stack except the portal's own, in dependency order (stop in
    /// reverse; restart one container after the other), holding the stack lock. Progress is reported per service.
    /// </summary>
    public async Task<string> RunStackAsync(ServiceAction action, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        var auditAction = AuditActions.Stack(Verb(action));
        var actor = await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, auditAction, _options.ProjectName, ct);
        // A whole-stack job a script queued goes first; running now would let it undo this right after.
        if (operations.Pending() is { } pending)
        {
            throw await RefusedAsync(actor, auditAction, new StackBusyException(pending.What, pending.State));
        }

        return await RunStackAsAsync(actor, action, _options.ProjectName, progress, ct);
    }

    /// <summary>
    /// A whole-stack action for the API: the role is checked, and the stack must be free now with no whole-stack job
    /// queued or running (else 403 or 409, audited, nothing queued); the action then runs as a job
    /// (<see cref="StackActionJob"/>) whose audit entry ends the operation with the returned id (the job's).
    /// </summary>
    public async Task<string> RequestStackAsync(ServiceAction action, CancellationToken ct = default)
    {
        var auditAction = AuditActions.Stack(Verb(action));
        var actor = await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, auditAction, _options.ProjectName, ct);
        // One request at a time looks and queues, so two quick requests cannot both find the stack free.
        await operations.Requests.WaitAsync(ct);
        try
        {
            var busy = stackLock.Holder is { } holder ? new StackBusyException(holder)
                : operations.Pending() is { } pending ? new StackBusyException(pending.What, pending.State)
                : null;
            if (busy is not null)
            {
                throw await RefusedAsync(actor, auditAction, busy);
            }

            var operationId = jobs.Enqueue<StackActionJob>(job => job.RunAsync(action, actor, null, CancellationToken.None));
            operations.Queued(operationId, action, actor);
            return operationId;
        }
        finally
        {
            operations.Requests.Release();
        }
    }

    /// <summary>The audit target of a whole-stack action run as the API's operation <paramref name="operationId"/>.</summary>
    public string OperationTarget(string operationId) => $"{_options.ProjectName}{OperationSuffix(operationId)}";

    /// <summary>How the audit target of operation <paramref name="operationId"/> ends.</summary>
    public static string OperationSuffix(string operationId) => $" operation {operationId}";

    /// <summary>
    /// The whole-stack action itself, as <paramref name="actor"/> (whose role was checked when they asked), holding the
    /// stack lock; its outcome, a busy stack included, is written to the audit log against <paramref name="auditTarget"/>.
    /// </summary>
    public async Task<string> RunStackAsAsync(string actor, ServiceAction action, string auditTarget, IProgress<string>? progress, CancellationToken ct)
    {
        var verb = Verb(action);
        try
        {
            using var held = stackLock.Acquire($"{verb} of the whole stack by {actor}");
            var ordered = DependencyOrder([.. snapshot.Current.Services.Where(s => !s.IsPortal)]);
            // Stop goes in reverse. A restart is the daemon's restart of each container in dependency order, as
            // `docker compose restart` does: each one is done by the daemon once asked, so a portal killed half-way
            // leaves every container running (some restarted), never a stack stopped by surprise.
            var steps = action == ServiceAction.Stop ? Enumerable.Reverse(ordered) : ordered;
            foreach (var service in steps)
            {
                progress?.Report($"{Present(action)} {service.Name}…");
                await ApplyAsync(service, action, ct);
            }

            await audit.RecordAsync(new AuditRecord(actor, AuditActions.Stack(verb), auditTarget, true), CancellationToken.None);
            var done = $"The stack was {Past(action)}: {string.Join(", ", steps.Select(s => s.Name))}.";
            progress?.Report(done);
            return done;
        }
        catch (Exception ex) when (ex is DockerUnavailableException or DockerOperationException or DockerNotFoundException or StackBusyException)
        {
            await audit.RecordAsync(new AuditRecord(actor, AuditActions.Stack(verb), auditTarget, false, ex.Message), CancellationToken.None);
            throw;
        }
    }

    /// <summary>Records a whole-stack action refused because the stack is busy; returns the refusal to throw.</summary>
    private async Task<StackBusyException> RefusedAsync(string actor, string auditAction, StackBusyException busy)
    {
        await audit.RecordAsync(new AuditRecord(actor, auditAction, _options.ProjectName, false, busy.Message), CancellationToken.None);
        return busy;
    }

    private static string Verb(ServiceAction action) => action.ToString().ToLowerInvariant();

    /// <summary>
    /// Services in levels: level 0 depends on nothing in the set, each later level only on earlier ones. The services of
    /// one level can start (or, in reverse, stop) together, as compose does.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<ServiceView>> DependencyLevels(IReadOnlyCollection<ServiceView> services)
    {
        var byName = services.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var service in DependencyOrder(services))
        {
            // In dependency order every dependency has its level already (a cycle's back edge is simply ignored).
            levels[service.Name] = service.DependsOn.Where(byName.ContainsKey).Select(d => levels.GetValueOrDefault(d, -1) + 1).DefaultIfEmpty(0).Max();
        }

        return [.. DependencyOrder(services).GroupBy(s => levels[s.Name]).OrderBy(g => g.Key).Select(g => (IReadOnlyList<ServiceView>)[.. g])];
    }

    /// <summary>Services ordered so that each comes after what it depends on (compose's depends_on labels); ties by name.</summary>
    public static IReadOnlyList<ServiceView> DependencyOrder(IReadOnlyCollection<ServiceView> services)
    {
        var byName = services.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var ordered = new List<ServiceView>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in services.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            Visit(service);
        }

        return ordered;

        void Visit(ServiceView service)
        {
            // Marked on entry, so a dependency cycle (compose refuses them) cannot loop forever.
            if (!seen.Add(service.Name))
            {
                return;
            }

            foreach (var dependency in service.DependsOn.Order(StringComparer.Ordinal))
            {
                if (byName.TryGetValue(dependency, out var dep))
                {
                    Visit(dep);
                }
            }

            ordered.Add(service);
        }
    }

    private ServiceView Resolve(string serviceName, ServiceAction action)
    {
        // One service at a time is not a stack-changing job, but it must not cut into one (a reset, a restore), nor be
        // undone by a whole-stack job a script queued.
        if ((stackLock.Holder is { } holder ? (What: holder, State: "running") : operations.Pending()) is { } busy)
        {
            throw new StackActionRefusedException($"The stack is busy: {busy.What} is {busy.State}. Wait until it has finished; nothing was changed.");
        }

        var service = snapshot.Current.Find(serviceName)
            ?? throw new StackActionRefusedException(
                $"There is no service named '{Printable(serviceName)}' in the stack {_options.ProjectName}. Nothing was changed.");
        if (service.IsPortal && action != ServiceAction.Start)
        {
            throw new StackActionRefusedException(
                $"{service.Name} is part of the portal itself; it cannot be stopped or restarted from the portal. Use docker compose on the host.");
        }

        return service;
    }

    private async Task ApplyAsync(ServiceView service, ServiceAction action, CancellationToken ct)
    {
        foreach (var container in service.Containers)
        {
            switch (action)
            {
                case ServiceAction.Start:
                    await engine.StartContainerAsync(container.Id, ct);
                    break;
                case ServiceAction.Stop:
                    await engine.StopContainerAsync(container.Id, _options.StopGracePeriod, ct);
                    break;
                case ServiceAction.Restart:
                    await engine.RestartContainerAsync(container.Id, _options.StopGracePeriod, ct);
                    break;
            }
        }
    }

    private static string Present(ServiceAction action) => action switch
    {
        ServiceAction.Start => "Starting",
        ServiceAction.Stop => "Stopping",
        _ => "Restarting",
    };

    private static string Past(ServiceAction action) => action switch
    {
        ServiceAction.Start => "started",
        ServiceAction.Stop => "stopped",
        _ => "restarted",
    };

    /// <summary>Names from requests may hold control characters; never echo them raw into messages or the log.</summary>
    public static string Printable(string value) => new([.. value.Select(c => char.IsControl(c) ? '?' : c).Take(100)]);
}
