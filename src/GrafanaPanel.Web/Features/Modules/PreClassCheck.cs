using System.Collections.Immutable;
using System.ComponentModel.DataAnnotations;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>The pre-class check's thresholds (section <c>PreClass</c>) and the backup directory it measures.</summary>
public sealed class PreClassOptions
{
    public const string Section = "PreClass";

    /// <summary>
    /// The directory backups are written to. Bound from <c>Backups:Directory</c> (the backups feature owns that
    /// setting; the check only measures its disk), default <c>/backups</c>.
    /// </summary>
    public string BackupDirectory { get; set; } = "/backups";

    /// <summary>Free space the backup directory's disk needs before class: room for the next backup.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "PreClass__MinimumFreeBytes must be zero or more (bytes).")]
    public long MinimumFreeBytes { get; set; } = 5L * 1024 * 1024 * 1024;
}

public enum CheckStatus
{
    Pass,
    Warning,
    Fail,
}

public enum PreClassVerdict
{
    Ready,
    ReadyWithWarnings,
    NotReady,
}

/// <summary>One line of the checklist: what was checked, how it went, and the detail an instructor acts on.</summary>
public sealed record CheckItem(string Area, string Title, CheckStatus Status, string Detail);

public sealed record PreClassReport(DateTimeOffset At, ImmutableArray<CheckItem> Items)
{
    public PreClassVerdict Verdict => Items.Any(i => i.Status == CheckStatus.Fail)
        ? PreClassVerdict.NotReady
        : Items.Any(i => i.Status == CheckStatus.Warning) ? PreClassVerdict.ReadyWithWarnings : PreClassVerdict.Ready;

    public static string Describe(PreClassVerdict verdict) => verdict switch
    {
        PreClassVerdict.Ready => "Ready",
        PreClassVerdict.ReadyWithWarnings => "Ready with warnings",
        _ => "Not ready",
    };
}

/// <summary>Free space where backups go; <see cref="MeasuredPath"/> differs from the directory when that does not exist yet.</summary>
public sealed record BackupDiskSpace(string Directory, string MeasuredPath, bool DirectoryExists, long FreeBytes)
{
    /// <summary>
    /// Measures the file system the directory is (or would be created) on: its nearest existing ancestor when it does
    /// not exist yet, which is where a first backup would land.
    /// </summary>
    public static BackupDiskSpace Measure(string directory)
    {
        var full = Path.GetFullPath(directory);
        var existing = new DirectoryInfo(full);
        while (!existing.Exists && existing.Parent is not null)
        {
            existing = existing.Parent;
        }

        // DriveInfo on Linux asks statvfs about the path itself, so any directory gives its own file system.
        var free = new DriveInfo(existing.FullName).AvailableFreeSpace;
        return new BackupDiskSpace(full, existing.FullName, existing.FullName == full, free);
    }
}

/// <summary>The pre-class check as the Modules page calls it (a seam for component tests).</summary>
public interface IPreClassCheck
{
    Task<PreClassReport> RunAsync(CancellationToken ct);
}

/// <summary>
/// The one action an instructor runs before class: every module's readiness, every service's health, free disk
/// for the next backup, and the last successful backup, as a checklist with a verdict. Instructors and Admins
/// only (checked at the moment of the action), recorded in the audit log.
/// </summary>
public sealed class PreClassCheck(
    RoleGate gate,
    IModuleCatalog catalog,
    StackSnapshot snapshot,
    ModuleReadinessChecker readiness,
    IAuditLog audit,
    IOptions<PreClassOptions> options,
    TimeProvider time) : IPreClassCheck
{
    public async Task<PreClassReport> RunAsync(CancellationToken ct)
    {
        var actor = await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, AuditActions.PreClassCheck, "all modules", ct);
        catalog.Refresh();
        var state = catalog.Current;
        var inventory = await readiness.ProbeGrafanaAsync(state.Catalog.Modules, ct);
        var report = Build(state, snapshot.Current, inventory, () => BackupDiskSpace.Measure(options.Value.BackupDirectory), options.Value, time.GetUtcNow());
        // The check itself succeeded whatever it found: the verdict goes with the target, not in the error column.
        await audit.RecordAsync(new AuditRecord(actor, AuditActions.PreClassCheck, $"all modules: {PreClassReport.Describe(report.Verdict)}", true),
            CancellationToken.None);
        return report;
    }

    /// <summary>The checklist from what was gathered (a pure function, so every verdict is testable without a lab).</summary>
    public static PreClassReport Build(
        ModuleCatalogState state, StackView stack, GrafanaInventory inventory, Func<BackupDiskSpace> disk, PreClassOptions options, DateTimeOffset at)
    {
        var items = ImmutableArray.CreateBuilder<CheckItem>();
        if (state.Error is { } error)
        {
            items.Add(new CheckItem("Modules", "Module catalog", CheckStatus.Warning,
                $"The catalog file has an error, so the portal uses the last good version: {error}"));
        }

        if (state.Catalog.Modules.IsEmpty)
        {
            items.Add(new CheckItem("Modules", "Modules", CheckStatus.Fail, $"The catalog {state.Catalog.Path} has no module."));
        }

        foreach (var module in state.Catalog.Modules)
        {
            var result = ModuleReadinessChecker.Evaluate(module, stack, inventory);
            items.Add(result.Status == ReadinessStatus.Ready
                ? new CheckItem("Modules", module.Title, CheckStatus.Pass, "Ready.")
                : new CheckItem("Modules", module.Title, CheckStatus.Fail, string.Join(" ", result.Problems.Select(p => p.Message))));
        }

        if (stack.StaleReason is { } stale)
        {
            items.Add(new CheckItem("Services", "Stack state", CheckStatus.Fail, $"The stack's state may be out of date: {stale}"));
        }

        if (stack.Services.IsEmpty)
        {
            items.Add(new CheckItem("Services", "Services", CheckStatus.Fail, $"No container of the compose project {stack.Project} was found."));
        }

        foreach (var service in stack.Services)
        {
            items.Add(ModuleReadinessChecker.ServiceProblem(service.Name, stack) is { } problem
                ? new CheckItem("Services", service.Name, CheckStatus.Fail, problem)
                : new CheckItem("Services", service.Name, CheckStatus.Pass, service.Health == ServiceHealth.Healthy ? "Healthy." : "Running (no health check)."));
        }

        items.Add(DiskItem(disk, options));

        // Backups are not built yet (issue 5): say so instead of passing a check that cannot be made.
        items.Add(new CheckItem("Backups", "Last successful backup", CheckStatus.Warning,
            "No backup catalog yet: the portal does not take backups yet, so there is no successful backup to restore before class."));
        return new PreClassReport(at, items.ToImmutable());
    }

    private static CheckItem DiskItem(Func<BackupDiskSpace> measure, PreClassOptions options)
    {
        var minimum = options.MinimumFreeBytes;
        BackupDiskSpace disk;
        try
        {
            disk = measure();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return new CheckItem("Backups", "Free disk for the next backup", CheckStatus.Fail,
                $"The free space of {options.BackupDirectory} (Backups__Directory) cannot be measured: {ex.Message}");
        }

        var amount = $"{Format.Bytes(disk.FreeBytes)} free, at least {Format.Bytes(minimum)} wanted (PreClass__MinimumFreeBytes)";
        if (disk.FreeBytes < minimum)
        {
            return new CheckItem("Backups", "Free disk for the next backup", CheckStatus.Fail, $"Only {amount} on {disk.MeasuredPath}.");
        }

        return disk.DirectoryExists
            ? new CheckItem("Backups", "Free disk for the next backup", CheckStatus.Pass, $"{amount} on {disk.Directory}.")
            : new CheckItem("Backups", "Free disk for the next backup", CheckStatus.Warning,
                $"The backup directory {disk.Directory} (Backups__Directory) does not exist yet; {amount} on {disk.MeasuredPath}, where it would be created.");
    }
}
