using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Backups;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>The real portal wires the backup engine, and its start-up recovery runs once the engine answers.</summary>
public sealed class BackupHostingTests
{
    [Fact]
    public async Task The_portal_resolves_the_backup_runner_and_recovers_a_paused_container_at_start()
    {
        await using var project = new TestProject();
        var directory = Directory.CreateTempSubdirectory("gp-backups-host-").FullName;
        var container = await project.RunAsync("app", "sleep", "600");
        await TestProject.WaitForStatusAsync(container, "running");
        var setId = Guid.NewGuid();
        await new InflightJournal(setId, JournalOperation.Backup, Path.Combine(directory, "20260101-000000-x"), [container], [], DateTimeOffset.UtcNow)
            .WriteAsync(directory, CancellationToken.None);
        // The process that wrote it is gone: no running operation owns the journal.
        InflightJournal.Release(directory, setId, delete: false);
        await DockerCli.RunAsync("pause", container);

        await using var app = new PanelAppFactory().With("Stack:ProjectName", project.Name).With("Backups:Directory", directory);
        await app.InitializeAsync();
        try
        {
            Assert.IsType<BackupRunner>(app.Services.GetRequiredService<IBackupRunner>());
            var report = await app.Services.GetRequiredService<BackupRecovery>().FirstRun.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal([container], report.ResumedContainers);
            Assert.Equal(setId, Assert.Single(report.InterruptedSets).SetId);
            Assert.Equal("running", await BackupRig.StateAsync(container));
            Assert.False(File.Exists(InflightJournal.PathFor(directory, setId)));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
