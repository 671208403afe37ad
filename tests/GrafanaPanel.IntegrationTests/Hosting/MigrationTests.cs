using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using Microsoft.EntityFrameworkCore;
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

    private static async Task MigrateAsync(string connectionString)
    {
        await using var db = NewContext(connectionString);
        await DatabaseInitializer.MigrateAsync(db, CancellationToken.None);
    }

    private static PanelDbContext NewContext(string connectionString) =>
        new(new DbContextOptionsBuilder<PanelDbContext>().UseNpgsql(connectionString).Options);
}
