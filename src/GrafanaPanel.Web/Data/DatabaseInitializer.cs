using GrafanaPanel.Web.Features.Accounts;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Polly;
using Polly.Retry;

namespace GrafanaPanel.Web.Data;

/// <summary>
/// Brings the panel database up to date at start-up: EF Core migrations and the Hangfire schema, under a
/// PostgreSQL advisory lock so two instances starting together never migrate at once. Retries with
/// backoff while PostgreSQL is unreachable, and tells <see cref="DatabaseStatus"/> why.
/// </summary>
public sealed class DatabaseInitializer(
    IServiceProvider services,
    DatabaseStatus status,
    ILogger<DatabaseInitializer> logger) : BackgroundService
{
    // Any constant works; it only has to be the same for every instance of the portal.
    private const long MigrationLockKey = 0x4772_6166_5061_6E65; // "GrafPane"

    public const string HangfireSchema = "hangfire";

    /// <summary>
    /// The first attempt runs before the web server starts, so nothing (data-protection keys, sign-in)
    /// reads the database before it is migrated; when PostgreSQL is down, retries continue in the background.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await InitializeAsync(cancellationToken);
            status.ReportReady();
            logger.LogInformation("Panel database is ready");
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            var problem = DescribeFailure(ex);
            status.ReportProblem(problem);
            logger.LogWarning("{Problem} Retrying in the background; /readyz reports the state.", problem);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (status.IsReady)
        {
            return;
        }

        var pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = TimeSpan.FromSeconds(30),
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                OnRetry = args =>
                {
                    var problem = DescribeFailure(args.Outcome.Exception);
                    status.ReportProblem(problem);
                    logger.LogWarning("{Problem} Retrying in {Delay}.", problem, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        try
        {
            await pipeline.ExecuteAsync(async ct => await InitializeAsync(ct), stoppingToken);
            status.ReportReady();
            logger.LogInformation("Panel database is ready");
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            status.ReportProblem($"Database initialisation failed: {ex.Message}");
            logger.LogCritical(ex, "Database initialisation failed and will not be retried");
        }
    }

    private async Task InitializeAsync(CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanelDbContext>();
        await MigrateAsync(db, ct);
        await RemoveUnencryptedKeysAsync(db, ct);
        await scope.ServiceProvider.GetRequiredService<AdminBootstrapper>().EnsureRolesAndFirstAdminAsync(ct);
    }

    /// <summary>
    /// Data-protection keys written before keys were encrypted are deleted, so no plaintext key stays in use (the key
    /// ring would use one for up to 90 days). Nothing stored depends on them: users sign in once more.
    /// </summary>
    private async Task RemoveUnencryptedKeysAsync(PanelDbContext db, CancellationToken ct)
    {
        var removed = await db.DataProtectionKeys.Where(k => k.Xml == null || !k.Xml.Contains("<encryptedSecret")).ExecuteDeleteAsync(ct);
        if (removed > 0)
        {
            logger.LogWarning("Removed {Count} data-protection key(s) stored unencrypted; users who were signed in sign in again", removed);
        }
    }

    /// <summary>
    /// Creates the panel database when it does not exist yet, then applies EF migrations and installs the Hangfire
    /// schema while holding the migration lock.
    /// </summary>
    public static async Task MigrateAsync(PanelDbContext db, CancellationToken ct)
    {
        await EnsureDatabaseExistsAsync(db, ct);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock({0})", [MigrationLockKey], ct);
            try
            {
                // Created first so EF does not query a missing history table (it logs that as an error on a fresh database).
                await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), ct);
                await db.Database.MigrateAsync(ct);
                PostgreSqlObjectsInstaller.Install((NpgsqlConnection)db.Database.GetDbConnection(), HangfireSchema);
            }
            finally
            {
                await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock({0})", [MigrationLockKey], CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// A fresh database name on a reachable server is created (the user needs CREATEDB, as the run command's private
    /// server's superuser has); without that right the error names the database and the statement to run.
    /// </summary>
    private static async Task EnsureDatabaseExistsAsync(PanelDbContext db, CancellationToken ct)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(ct))
        {
            return;
        }

        try
        {
            await creator.CreateAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another instance created it a moment ago.
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new PanelDatabaseMissingException(db.Database.GetConnectionString(), e);
        }
    }

    /// <summary>Whether an initialisation failure may heal by itself (server down, database not created yet), so it is retried.</summary>
    public static bool IsTransient(Exception ex) =>
        ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or PanelDatabaseMissingException
        || (ex is InvalidOperationException && ex.InnerException is NpgsqlException);

    private string DescribeFailure(Exception? ex)
    {
        if (ex is PanelDatabaseMissingException missing)
        {
            return missing.Message;
        }

        var target = DescribeTarget(services.GetRequiredService<IConfiguration>().GetConnectionString("Panel"));
        return $"PostgreSQL at {target} is unreachable ({ex?.GetBaseException().Message}).";
    }

    public static string DescribeTarget(string? connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        return $"host {csb.Host}, port {csb.Port}, database {csb.Database}";
    }
}

/// <summary>The panel database does not exist and its user may not create it: what to run, in words.</summary>
public sealed class PanelDatabaseMissingException(string? connectionString, Exception inner) : Exception(Describe(connectionString), inner)
{
    private static string Describe(string? connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        return $"The panel database \"{csb.Database}\" does not exist on host {csb.Host}, port {csb.Port}, and user \"{csb.Username}\" " +
            $"may not create it. Create it as a superuser, for example: psql -h {csb.Host} -p {csb.Port} -U postgres " +
            $"-c 'CREATE DATABASE \"{csb.Database}\" OWNER \"{csb.Username}\"'. The portal retries by itself.";
    }
}
