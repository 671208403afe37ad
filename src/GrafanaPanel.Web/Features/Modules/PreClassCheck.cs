using System.Collections.Immutable;
using System.ComponentModel.DataAnnotations;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>The pre-class check's thresholds (section <c>PreClass</c>).</summary>
public sealed class PreClassOptions
{
    public const string Section = "PreClass";

    /// <summary>Free space the backup directory's disk needs before class, whatever the next backup is estimated at.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "PreClass__MinimumFreeBytes must be zero or more (bytes).")]
    public long MinimumFreeBytes { get; set; } = 5L * 1024 * 1024 * 1024;

    /// <summary>A last successful backup older than this is a warning.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00", ErrorMessage = "PreClass__MaxBackupAge must be between 00:01:00 and 365.00:00:00.")]
    public TimeSpan MaxBackupAge { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>The newest completed backup set in the catalog.</summary>
public sealed record LastBackup(DateTimeOffset CompletedAt, string Trigger, int Volumes, long CompressedBytes, VerificationState Verification, string? VerificationMessage);

/// <summary>
/// What the check knows about backups: the directory and the room the next backup of every lab volume needs
/// (the volumes' measured sizes plus the margin the backup runner keeps free), and the last successful backup.
/// </summary>
public sealed record BackupFacts(string Directory, long LabVolumeBytes, int UnmeasuredVolumes, long MarginBytes, LastBackup? Last);

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
/// for the next backup, and the last successful backup (from the backup catalog), as a checklist with a verdict. Instructors and Admins
/// only (checked at the moment of the action), recorded in the audit log.
/// </summary>
public sealed class PreClassCheck(
    RoleGate gate,
    IModuleCatalog catalog,
    StackSnapshot snapshot,
    ModuleReadinessChecker readiness,
    IDbContextFactory<PanelDbContext> dbFactory,
    IAuditLog audit,
    IOptions<PreClassOptions> options,
    IOptions<BackupOptions> backupOptions,
    TimeProvider time) : IPreClassCheck
{
    public async Task<PreClassReport> RunAsync(CancellationToken ct)
    {
        var actor = await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, AuditActions.PreClassCheck, "all modules", ct);
        catalog.Refresh();
        var state = catalog.Current;
        var inventory = await readiness.ProbeGrafanaAsync(state.Catalog.Modules, ct);
        var stack = snapshot.Current;
        var backups = await BackupFactsAsync(stack, ct);
        var report = Build(state, stack, inventory, () => BackupDiskSpace.Measure(backups.Directory), backups, options.Value, time.GetUtcNow());
        // The check itself succeeded whatever it found: the verdict goes with the target, not in the error column.
        await audit.RecordAsync(new AuditRecord(actor, AuditActions.PreClassCheck, $"all modules: {PreClassReport.Describe(report.Verdict)}", true),
            CancellationToken.None);
        return report;
    }

    private async Task<BackupFacts> BackupFactsAsync(StackView stack, CancellationToken ct)
    {
        // The portal's own volumes (its database, the backups themselves) are never part of a lab backup.
        var labVolumes = stack.Services.Where(s => !s.IsPortal).SelectMany(s => s.Volumes).DistinctBy(v => v.Name).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var last = await db.BackupSets.AsNoTracking()
            .Where(s => s.Status == BackupSetStatus.Completed && s.CompletedAt != null)
            .OrderByDescending(s => s.CompletedAt)
            .Select(s => new LastBackup(s.CompletedAt!.Value, Vocabulary.Display(s.Trigger), s.Volumes.Count, s.CompressedBytes, s.Verification, s.VerificationMessage))
            .FirstOrDefaultAsync(ct);
        return new BackupFacts(backupOptions.Value.Directory, labVolumes.Sum(v => v.SizeBytes ?? 0), labVolumes.Count(v => v.SizeBytes is null),
            backupOptions.Value.FreeSpaceMarginBytes, last);
    }

    /// <summary>The checklist from what was gathered (a pure function, so every verdict is testable without a lab).</summary>
    public static PreClassReport Build(
        ModuleCatalogState state,
        StackView stack,
        GrafanaInventory inventory,
        Func<BackupDiskSpace> disk,
        BackupFacts backups,
        PreClassOptions options,
        DateTimeOffset at)
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

        items.Add(DiskItem(disk, backups, options));
        items.Add(LastBackupItem(backups.Last, options, at));
        return new PreClassReport(at, items.ToImmutable());
    }

    private static CheckItem DiskItem(Func<BackupDiskSpace> measure, BackupFacts backups, PreClassOptions options)
    {
        const string title = "Free disk for the next backup";
        BackupDiskSpace disk;
        try
        {
            disk = measure();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return new CheckItem("Backups", title, CheckStatus.Fail, $"The free space of {backups.Directory} (Backups__Directory) cannot be measured: {ex.Message}");
        }

        // The backup runner refuses a backup without room for the volumes' measured size plus its margin.
        var needed = Math.Max(options.MinimumFreeBytes, backups.LabVolumeBytes + backups.MarginBytes);
        var why = $"a backup of every lab volume needs about {Format.Bytes(backups.LabVolumeBytes)}" +
                  (backups.UnmeasuredVolumes > 0 ? $" ({backups.UnmeasuredVolumes} volumes not measured yet)" : "") +
                  $" plus {Format.Bytes(backups.MarginBytes)} kept free (Backups__FreeSpaceMarginBytes), and at least " +
                  $"{Format.Bytes(options.MinimumFreeBytes)} is wanted (PreClass__MinimumFreeBytes)";
        if (disk.FreeBytes < needed)
        {
            return new CheckItem("Backups", title, CheckStatus.Fail, $"Only {Format.Bytes(disk.FreeBytes)} free on {disk.MeasuredPath}: {why}.");
        }

        return disk.DirectoryExists
            ? new CheckItem("Backups", title, CheckStatus.Pass, $"{Format.Bytes(disk.FreeBytes)} free on {disk.Directory}; {why}.")
            : new CheckItem("Backups", title, CheckStatus.Warning,
                $"The backup directory {disk.Directory} (Backups__Directory) does not exist yet; {Format.Bytes(disk.FreeBytes)} free on " +
                $"{disk.MeasuredPath}, where it would be created; {why}.");
    }

    private static CheckItem LastBackupItem(LastBackup? last, PreClassOptions options, DateTimeOffset at)
    {
        const string title = "Last successful backup";
        if (last is null)
        {
            return new CheckItem("Backups", title, CheckStatus.Warning,
                "No successful backup yet: take one on the Backups page before class, so the lab can be put back if it breaks.");
        }

        var what = $"{Format.Ago(last.CompletedAt, at)} ({last.Trigger}, {last.Volumes} volume{(last.Volumes == 1 ? "" : "s")}, {Format.Bytes(last.CompressedBytes)})";
        if (last.Verification == VerificationState.Failed)
        {
            return new CheckItem("Backups", title, CheckStatus.Warning, $"{what}, but its verification failed: {last.VerificationMessage}");
        }

        if (at - last.CompletedAt > options.MaxBackupAge)
        {
            return new CheckItem("Backups", title, CheckStatus.Warning,
                $"{what}: older than {Format.Duration(options.MaxBackupAge)} (PreClass__MaxBackupAge); take a fresh one before class.");
        }

        return new CheckItem("Backups", title, CheckStatus.Pass,
            what + (last.Verification == VerificationState.Passed ? ", verified." : ", not verified yet."));
    }
}
