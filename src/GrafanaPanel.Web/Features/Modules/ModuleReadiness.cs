using System.Collections.Concurrent;
using System.Collections.Immutable;
using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Features.Modules;

public enum GrafanaPieceKind
{
    Dashboard,
    Folder,
    DataSource,
}

/// <summary>Something a module needs Grafana to have, in one organization (null: the credentials' own).</summary>
public sealed record GrafanaPiece(GrafanaPieceKind Kind, string Uid, int? OrgId)
{
    public string Describe() => Kind switch
    {
        GrafanaPieceKind.Dashboard => $"dashboard '{Uid}'",
        GrafanaPieceKind.Folder => $"folder '{Uid}'",
        _ => $"data source '{Uid}'",
    } + (OrgId is { } org ? $" in organization {org}" : "");
}

/// <summary>One piece's answer: present or missing, or the error (and its kind) that kept the portal from knowing.</summary>
public sealed record PieceCheck(bool Present, string? Error, GrafanaFailure? Failure = null);

/// <summary>
/// What Grafana had when the portal last asked. <see cref="CannotCheck"/> says why nothing could be checked
/// (unreachable, database down, no credentials); then <see cref="Pieces"/> is empty.
/// </summary>
public sealed record GrafanaInventory(
    DateTimeOffset CheckedAt,
    string? Version,
    string? CannotCheck,
    ImmutableDictionary<GrafanaPiece, PieceCheck> Pieces);

public enum ReadinessStatus
{
    /// <summary>Grafana has not been asked yet.</summary>
    Checking,
    Ready,
    NotReady,
}

public enum ProblemKind
{
    Stack,
    Service,
    Grafana,
    Dashboard,
    Folder,
    DataSource,
}

/// <summary>One thing that keeps a module from being ready; <see cref="Subject"/> is the service or uid it is about.</summary>
public sealed record ReadinessProblem(ProblemKind Kind, string Subject, string Message);

public sealed record ModuleReadiness(string ModuleId, ReadinessStatus Status, ImmutableArray<ReadinessProblem> Problems);

/// <summary>
/// Whether each module can be taught now: its services healthy (from the stack snapshot) and every dashboard, folder
/// and data source its links use present in Grafana (asked through the API). Asking Grafana is one step
/// (<see cref="ProbeGrafanaAsync"/>); judging a module is a pure function of the snapshot and that answer, so the
/// page re-judges on every stack change without asking Grafana again.
/// </summary>
public sealed class ModuleReadinessChecker(IGrafanaApi grafana, TimeProvider time)
{
    /// <summary>Enough to check a catalog quickly without flooding Grafana.</summary>
    private const int ParallelChecks = 4;

    /// <summary>Where Grafana is asked, for the pages to say.</summary>
    public string GrafanaEndpoint => grafana.Endpoint;

    public static IEnumerable<GrafanaPiece> PiecesOf(TrainingModule module) =>
        module.Links.Select(link => link.Kind switch
        {
            ModuleLinkKind.Dashboard => new GrafanaPiece(GrafanaPieceKind.Dashboard, link.Target, link.OrgIdIn(module)),
            ModuleLinkKind.Folder => new GrafanaPiece(GrafanaPieceKind.Folder, link.Target, link.OrgIdIn(module)),
            ModuleLinkKind.Explore => new GrafanaPiece(GrafanaPieceKind.DataSource, link.Target, link.OrgIdIn(module)),
            _ => null,
        }).OfType<GrafanaPiece>().Distinct();

    /// <summary>Asks Grafana for its health and for every piece the modules need (each piece once).</summary>
    public async Task<GrafanaInventory> ProbeGrafanaAsync(IEnumerable<TrainingModule> modules, CancellationToken ct)
    {
        GrafanaHealth health;
        try
        {
            health = await grafana.GetHealthAsync(ct);
        }
        catch (GrafanaApiException ex)
        {
            return new GrafanaInventory(time.GetUtcNow(), null, ex.Message, ImmutableDictionary<GrafanaPiece, PieceCheck>.Empty);
        }

        if (!health.DatabaseOk)
        {
            return new GrafanaInventory(time.GetUtcNow(), health.Version,
                $"Grafana at {grafana.Endpoint} answers, but its database does not (/api/health reports it failing).",
                ImmutableDictionary<GrafanaPiece, PieceCheck>.Empty);
        }

        var pieces = modules.SelectMany(PiecesOf).Distinct().ToList();
        var answers = new ConcurrentDictionary<GrafanaPiece, PieceCheck>();
        await Parallel.ForEachAsync(pieces, new ParallelOptions { MaxDegreeOfParallelism = ParallelChecks, CancellationToken = ct },
            async (piece, token) => answers[piece] = await CheckAsync(piece, token));

        // Every piece refused for the same reason (bad credentials, say) is one problem, not one per uid.
        if (pieces.Count > 0 && answers.Values.All(a => a.Failure is not null) && answers.Values.Select(a => a.Failure).Distinct().Count() == 1)
        {
            var first = answers[pieces[0]].Error;
            return new GrafanaInventory(time.GetUtcNow(), health.Version,
                pieces.Count == 1 ? first : $"Grafana answered none of the {pieces.Count} checks. The first: {first}",
                ImmutableDictionary<GrafanaPiece, PieceCheck>.Empty);
        }

        return new GrafanaInventory(time.GetUtcNow(), health.Version, null, answers.ToImmutableDictionary());
    }

    private async Task<PieceCheck> CheckAsync(GrafanaPiece piece, CancellationToken ct)
    {
        try
        {
            var present = piece.Kind switch
            {
                GrafanaPieceKind.Dashboard => await grafana.DashboardExistsAsync(piece.Uid, piece.OrgId, ct),
                GrafanaPieceKind.Folder => await grafana.FolderExistsAsync(piece.Uid, piece.OrgId, ct),
                _ => await grafana.DataSourceExistsAsync(piece.Uid, piece.OrgId, ct),
            };
            return new PieceCheck(present, null);
        }
        catch (GrafanaApiException ex)
        {
            return new PieceCheck(false, ex.Message, ex.Failure);
        }
    }

    /// <summary>Judges one module against the stack as it is and what Grafana answered (null: not asked yet).</summary>
    public static ModuleReadiness Evaluate(TrainingModule module, StackView stack, GrafanaInventory? grafana)
    {
        var problems = ImmutableArray.CreateBuilder<ReadinessProblem>();
        if (stack.StaleReason is { } stale)
        {
            problems.Add(new ReadinessProblem(ProblemKind.Stack, stack.Project, $"The stack's state may be out of date: {stale}"));
        }

        foreach (var name in module.Services)
        {
            if (ServiceProblem(name, stack) is { } message)
            {
                problems.Add(new ReadinessProblem(ProblemKind.Service, name, message));
            }
        }

        if (grafana is null)
        {
            return new ModuleReadiness(module.Id, problems.Count > 0 ? ReadinessStatus.NotReady : ReadinessStatus.Checking, problems.ToImmutable());
        }

        if (grafana.CannotCheck is { } reason)
        {
            problems.Add(new ReadinessProblem(ProblemKind.Grafana, "grafana", reason));
        }
        else
        {
            foreach (var piece in PiecesOf(module))
            {
                var answer = grafana.Pieces.GetValueOrDefault(piece);
                if (answer is null)
                {
                    // The catalog changed after Grafana was asked: say so rather than guess.
                    problems.Add(new ReadinessProblem(ProblemKind.Grafana, piece.Uid, $"The {piece.Describe()} has not been checked yet; check again."));
                }
                else if (answer.Error is { } error)
                {
                    problems.Add(new ReadinessProblem(ProblemKind.Grafana, piece.Uid, $"Could not check the {piece.Describe()}: {error}"));
                }
                else if (!answer.Present)
                {
                    problems.Add(new ReadinessProblem(KindOf(piece), piece.Uid, $"Grafana has no {piece.Describe()}."));
                }
            }
        }

        return new ModuleReadiness(module.Id, problems.Count == 0 ? ReadinessStatus.Ready : ReadinessStatus.NotReady, problems.ToImmutable());
    }

    /// <summary>Why a service is not fit for class, or null when it is (healthy, or running without a health check).</summary>
    public static string? ServiceProblem(string name, StackView stack)
    {
        var service = stack.Find(name);
        if (service is null)
        {
            return $"Service {name} is not running: the stack {stack.Project} has no container for it.";
        }

        return service.Health switch
        {
            ServiceHealth.Healthy or ServiceHealth.Running => null,
            ServiceHealth.Starting => $"Service {name} is still starting.",
            ServiceHealth.Paused => $"Service {name} is paused.",
            ServiceHealth.Down => $"Service {name} is down ({service.State.ToString().ToLowerInvariant()}).",
            _ => $"Service {name} is unhealthy{Detail(service)}.",
        };
    }

    private static string Detail(ServiceView service)
    {
        var said = service.Probe is { Healthy: false } probe ? probe.Message : service.DockerHealth?.LastOutput;
        if (string.IsNullOrWhiteSpace(said))
        {
            return "";
        }

        said = said.Trim();
        return ": " + (said.Length > 200 ? said[..200] + "…" : said);
    }

    private static ProblemKind KindOf(GrafanaPiece piece) => piece.Kind switch
    {
        GrafanaPieceKind.Dashboard => ProblemKind.Dashboard,
        GrafanaPieceKind.Folder => ProblemKind.Folder,
        _ => ProblemKind.DataSource,
    };
}
