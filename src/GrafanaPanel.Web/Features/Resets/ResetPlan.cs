using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>A refused reset or baseline action; the message says why and what to do. Nothing was changed.</summary>
public sealed class ResetRefusedException(string message) : PanelRefusalException(message)
{
    public override int StatusCode => Busy ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest;

    /// <summary>Refused because another stack-changing job is queued or running (not because of the request itself).</summary>
    public bool Busy { get; init; }
}

public enum VolumeResetAction
{
    /// <summary>Replaced by the baseline's archive.</summary>
    Restore,

    /// <summary>Emptied: the factory state, from which the service initialises itself again.</summary>
    Empty,

    /// <summary>Left as it is: the baseline holds no archive of it.</summary>
    Keep,
}

/// <summary>One volume a reset touches (or keeps), with its size now and the services that use it.</summary>
public sealed record PlannedVolume(string Name, long? SizeBytes, VolumeResetAction Action, IReadOnlyList<string> Services);

/// <summary>
/// What a reset will do, computed from the live stack and the baseline: the services in scope in dependency order
/// (the portal's own never), and for each of their volumes whether it is restored, emptied or kept. The dialog
/// shows it; the job carries it out.
/// </summary>
public sealed record ResetPlan(
    string BaselineName,
    Guid? BaselineId,
    DateTimeOffset? BaselineTakenAt,
    bool WholeStack,
    IReadOnlyList<ServiceView> Services,
    IReadOnlyList<PlannedVolume> Volumes)
{
    public bool IsFactory => BaselineId is null;

    public IReadOnlyList<string> VolumesTo(VolumeResetAction action) => [.. Volumes.Where(v => v.Action == action).Select(v => v.Name)];

    /// <summary>The volumes whose content the reset replaces (restored or emptied).</summary>
    public IReadOnlyList<string> ReplacedVolumes => [.. Volumes.Where(v => v.Action != VolumeResetAction.Keep).Select(v => v.Name)];

    /// <summary>The bytes that will be replaced (unknown sizes count as 0), for the dialog.</summary>
    public long ReplacedBytes => Volumes.Where(v => v.Action != VolumeResetAction.Keep).Sum(v => v.SizeBytes ?? 0);

    /// <param name="scope">Service names; null or empty means the whole stack.</param>
    /// <param name="baseline">The baseline with its set and the set's volumes; null is the factory baseline.</param>
    public static ResetPlan Build(StackView view, IReadOnlyList<string>? scope, Baseline? baseline)
    {
        var lab = view.Services.Where(s => !s.IsPortal).ToList();
        var wholeStack = scope is null || scope.Count == 0;
        List<ServiceView> chosen;
        if (wholeStack)
        {
            chosen = lab;
        }
        else
        {
            chosen = [];
            foreach (var name in scope!.Distinct(StringComparer.Ordinal))
            {
                var service = view.Find(name) ?? throw new ResetRefusedException(
                    $"There is no service named '{StackControl.Printable(name)}' in the stack; nothing was changed.");
                if (service.IsPortal)
                {
                    throw new ResetRefusedException($"{service.Name} is part of the portal itself and is never reset from the portal.");
                }

                chosen.Add(service);
            }
        }

        if (chosen.Count == 0)
        {
            throw new ResetRefusedException("The stack has no lab services to reset. Is the stack created (docker compose up)?");
        }

        var ordered = StackControl.DependencyOrder(chosen);
        var portalVolumes = view.Services.Where(s => s.IsPortal).SelectMany(s => s.Volumes).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var inBaseline = baseline?.Set?.Volumes.Select(v => v.VolumeName).ToHashSet(StringComparer.Ordinal);
        var volumes = ordered
            .SelectMany(s => s.Volumes.Select(v => (Volume: v, Service: s.Name)))
            .Where(x => !portalVolumes.Contains(x.Volume.Name))
            .GroupBy(x => x.Volume.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new PlannedVolume(
                g.Key,
                view.Volumes.FirstOrDefault(v => v.Name == g.Key)?.SizeBytes ?? g.First().Volume.SizeBytes,
                inBaseline is null ? VolumeResetAction.Empty : inBaseline.Contains(g.Key) ? VolumeResetAction.Restore : VolumeResetAction.Keep,
                [.. g.Select(x => x.Service).Distinct(StringComparer.Ordinal)]))
            .ToList();

        return new ResetPlan(
            baseline?.Name ?? ResetOptions.FactoryName,
            baseline?.Id,
            baseline?.Set?.CreatedAt,
            wholeStack,
            ordered,
            volumes);
    }
}
