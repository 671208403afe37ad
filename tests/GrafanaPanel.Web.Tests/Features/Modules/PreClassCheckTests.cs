using System.Collections.Immutable;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Options;
using static GrafanaPanel.Web.Tests.Features.Modules.ModuleFixtures;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class PreClassCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
    private readonly StackSnapshot _snapshot = new(Options.Create(new StackOptions()), TimeProvider.System);
    private readonly PreClassOptions _options = new() { MinimumFreeBytes = 1000, MaxBackupAge = TimeSpan.FromDays(1) };
    private BackupFacts _backups = new("/backups", LabVolumeBytes: 2000, UnmeasuredVolumes: 0, MarginBytes: 500,
        new LastBackup(Now.AddHours(-3), "manual", 10, 3 * 1024 * 1024, VerificationState.Passed, null));
    private readonly GrafanaInventory _grafana = new(Now, "12.3.1", null, ImmutableDictionary<GrafanaPiece, PieceCheck>.Empty
        .Add(new GrafanaPiece(GrafanaPieceKind.Dashboard, "stack-health", null), new PieceCheck(true, null)));

    public PreClassCheckTests() =>
        _snapshot.ReplaceContainers([Container("grafana", health: "healthy"), Container("redis")]);

    private PreClassReport Build(ModuleCatalogState? catalog = null, long free = 5000, bool directoryExists = true) =>
        PreClassCheck.Build(catalog ?? Catalog(Module(dashboards: ["stack-health"])), _snapshot.Current, _grafana,
            () => new BackupDiskSpace("/backups", directoryExists ? "/backups" : "/", directoryExists, free), _backups, _options, Now);

    private static CheckItem Item(PreClassReport report, string title) => report.Items.Single(i => i.Title == title);

    [Fact]
    public void With_everything_fine_and_a_recent_verified_backup_the_verdict_is_ready()
    {
        var report = Build();

        Assert.Equal(PreClassVerdict.Ready, report.Verdict);
        Assert.Equal(CheckStatus.Pass, Item(report, "Title of module-1").Status);
        Assert.Equal(CheckStatus.Pass, Item(report, "grafana").Status);
        Assert.Equal("Running (no health check).", Item(report, "redis").Detail);
        Assert.Equal(CheckStatus.Pass, Item(report, "Free disk for the next backup").Status);
        Assert.Equal("3 h 0 min ago (manual, 10 volumes, 3 MiB), verified.", Item(report, "Last successful backup").Detail);
    }

    [Fact]
    public void No_successful_backup_yet_is_a_warning_that_says_to_take_one()
    {
        _backups = _backups with { Last = null };

        var backup = Item(Build(), "Last successful backup");

        Assert.Equal(CheckStatus.Warning, backup.Status);
        Assert.StartsWith("No successful backup yet", backup.Detail);
        Assert.Equal(PreClassVerdict.ReadyWithWarnings, Build().Verdict);
    }

    [Fact]
    public void A_backup_older_than_the_setting_or_whose_verification_failed_is_a_warning()
    {
        _backups = _backups with { Last = _backups.Last! with { CompletedAt = Now.AddDays(-3) } };
        var old = Item(Build(), "Last successful backup");
        Assert.Equal(CheckStatus.Warning, old.Status);
        Assert.Contains("PreClass__MaxBackupAge", old.Detail);

        _backups = _backups with { Last = _backups.Last! with { CompletedAt = Now.AddHours(-1), Verification = VerificationState.Failed, VerificationMessage = "hash mismatch in loki_data" } };
        var failed = Item(Build(), "Last successful backup");
        Assert.Equal(CheckStatus.Warning, failed.Status);
        Assert.EndsWith("its verification failed: hash mismatch in loki_data", failed.Detail);
    }

    [Fact]
    public void A_module_that_is_not_ready_fails_the_check_with_its_problems()
    {
        var report = Build(Catalog(Module(dashboards: ["stack-health"], services: ["grafana", "loki"])));

        var module = Item(report, "Title of module-1");
        Assert.Equal(CheckStatus.Fail, module.Status);
        Assert.Contains("Service loki is not running", module.Detail);
        Assert.Equal(PreClassVerdict.NotReady, report.Verdict);
    }

    [Fact]
    public void A_service_that_is_down_fails_the_check()
    {
        _snapshot.UpsertContainer(Container("redis", ContainerState.Exited));

        var report = Build();

        Assert.Equal(CheckStatus.Fail, Item(report, "redis").Status);
        Assert.Equal(PreClassVerdict.NotReady, report.Verdict);
    }

    [Fact]
    public void Free_disk_must_hold_the_lab_volumes_plus_the_margin_and_at_least_the_minimum()
    {
        // 2000 bytes of volumes + 500 margin: 2499 free is too little though above the 1000 minimum.
        var disk = Item(Build(free: 2499), "Free disk for the next backup");
        Assert.Equal(CheckStatus.Fail, disk.Status);
        Assert.StartsWith("Only 2.4 KiB free on /backups: a backup of every lab volume needs about 2 KiB", disk.Detail);
        Assert.Contains("Backups__FreeSpaceMarginBytes", disk.Detail);
        Assert.Equal(CheckStatus.Pass, Item(Build(free: 2500), "Free disk for the next backup").Status);

        _backups = _backups with { LabVolumeBytes = 0, UnmeasuredVolumes = 3 };
        var small = Item(Build(free: 999), "Free disk for the next backup");
        Assert.Equal(CheckStatus.Fail, small.Status);
        Assert.Contains("PreClass__MinimumFreeBytes", small.Detail);
        Assert.Contains("(3 volumes not measured yet)", small.Detail);
    }

    [Fact]
    public void A_backup_directory_that_does_not_exist_yet_is_a_warning_naming_where_it_was_measured()
    {
        var disk = Item(Build(directoryExists: false), "Free disk for the next backup");

        Assert.Equal(CheckStatus.Warning, disk.Status);
        Assert.Contains("/backups (Backups__Directory) does not exist yet", disk.Detail);
        Assert.Contains("on /, where it would be created", disk.Detail);
    }

    [Fact]
    public void A_catalog_error_is_a_warning_and_an_empty_catalog_a_failure()
    {
        var broken = Catalog(Module(dashboards: ["stack-health"])) with { Error = new CatalogError("/etc/m.yaml", 7, 3, "unknown key 'x'") };
        Assert.Contains("/etc/m.yaml, line 7", Item(Build(broken), "Module catalog").Detail);
        Assert.Equal(CheckStatus.Warning, Item(Build(broken), "Module catalog").Status);

        Assert.Equal(CheckStatus.Fail, Item(Build(Catalog()), "Modules").Status);
    }

    [Fact]
    public void The_free_space_of_a_directory_that_does_not_exist_is_measured_on_its_nearest_existing_parent()
    {
        var root = Directory.CreateTempSubdirectory("preclass-");
        try
        {
            var missing = Path.Combine(root.FullName, "not", "yet");

            var disk = BackupDiskSpace.Measure(missing);

            Assert.False(disk.DirectoryExists);
            Assert.Equal(root.FullName, disk.MeasuredPath);
            Assert.True(disk.FreeBytes > 0);
            Assert.True(BackupDiskSpace.Measure(root.FullName).DirectoryExists);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
