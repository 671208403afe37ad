using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Resets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace GrafanaPanel.IntegrationTests.Hosting;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrations_apply_to_an_empty_database_even_when_two_instances_start_together()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        try
        {
            // Two portals starting at once: each migrates under the advisory lock; neither fails.
            await Task.WhenAll(MigrateAsync(connectionString), MigrateAsync(connectionString));

            await using var db = NewContext(connectionString);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hangfire' AND table_name = 'job'", connection);
            Assert.Equal(1L, (long)(await command.ExecuteScalarAsync())!);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public void The_model_has_no_changes_missing_from_the_migrations()
    {
        using var db = NewContext("Host=localhost;Database=unused");
        Assert.False(db.Database.HasPendingModelChanges(), "Run 'dotnet ef migrations add <Name>' for the model change.");
    }

    [Fact]
    public async Task Rows_written_as_strings_by_earlier_versions_are_read_as_their_enums_after_the_migration()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        try
        {
            await using (var before = NewContext(connectionString))
            {
                await before.GetService<IMigrator>().MigrateAsync("20261126071145_Resets");
            }

            var (safety, rescanned, baseline, unknown, run) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                foreach (var (id, trigger) in new[] { (safety, "safety"), (rescanned, "pre-restore"), (baseline, "baseline"), (unknown, "nightly") })
                {
                    await using var insert = new NpgsqlCommand(
                        """
                        INSERT INTO "BackupSets" ("Id", "CreatedAt", "Trigger", "CreatedBy", "Mode", "Compression", "Status", "Folder",
                            "CompressedBytes", "UncompressedBytes", "DurationMs", "Pinned", "Verification")
                        VALUES (@id, now(), @trigger, 'tester', 'Pause', 'zstd', 'Completed', @folder, 0, 0, 0, false, 'NotVerified')
                        """, connection);
                    insert.Parameters.AddWithValue("id", id);
                    insert.Parameters.AddWithValue("trigger", trigger);
                    insert.Parameters.AddWithValue("folder", id.ToString("N"));
                    await insert.ExecuteNonQueryAsync();
                }

                await using var insertRun = new NpgsqlCommand(
                    """
                    INSERT INTO "ResetRuns" ("Id", "RequestedAt", "RequestedBy", "Trigger", "BaselineName", "Services", "SafetyBackup", "Status", "Active", "Steps")
                    VALUES (@id, now(), 'tester', 'schedule', 'factory', '{}', true, 'Succeeded', false,
                        '[{"Index":0,"Kind":"safety-backup","Target":null,"Status":"Done","Message":"m","StartedAt":"2026-11-26T10:00:00+00:00","DurationMs":1},
                          {"Index":1,"Kind":"keep","Target":"v","Status":"Done","Message":"m","StartedAt":"2026-11-26T10:00:00+00:00","DurationMs":1}]')
                    """, connection);
                insertRun.Parameters.AddWithValue("id", run);
                await insertRun.ExecuteNonQueryAsync();
            }

            await MigrateAsync(connectionString);

            await using var db = NewContext(connectionString);
            var triggers = await db.BackupSets.ToDictionaryAsync(s => s.Id, s => s.Trigger);
            Assert.Equal(BackupTrigger.PreRestore, triggers[safety]);
            Assert.Equal(BackupTrigger.PreRestore, triggers[rescanned]);
            Assert.Equal(BackupTrigger.Baseline, triggers[baseline]);
            Assert.Equal(BackupTrigger.Manual, triggers[unknown]);
            Assert.Equal(1, await db.BackupSets.CountAsync(s => s.Trigger == BackupTrigger.Baseline));
            var reset = await db.ResetRuns.SingleAsync(r => r.Id == run);
            Assert.Equal(ResetTrigger.Schedule, reset.Trigger);
            Assert.Equal([ResetStepKind.SafetyBackup, ResetStepKind.Keep], reset.Steps.OrderBy(s => s.Index).Select(s => s.Kind));
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(connectionString);
        }
    }

    private static async Task MigrateAsync(string connectionString)
    {
        await using var db = NewContext(connectionString);
        await DatabaseInitializer.MigrateAsync(db, CancellationToken.None);
    }

    private static PanelDbContext NewContext(string connectionString) =>
        new(new DbContextOptionsBuilder<PanelDbContext>().UseNpgsql(connectionString).Options);
}
