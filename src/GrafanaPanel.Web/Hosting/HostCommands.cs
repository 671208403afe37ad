using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Hosting;

/// <summary>
/// Commands for whoever has the host's shell, run before the web host is built, on the portal's own database and
/// configuration (appsettings, environment, <c>ConnectionStrings__Panel</c>):
/// <list type="bullet">
/// <item><c>setup-link</c>: prints a one-time link (30 minutes) to create the first Admin; refused once an Admin exists.</item>
/// <item><c>unlock-admin EMAIL</c>: lifts a lockout of an Admin account (failed attempts or a lock by another Admin).</item>
/// </list>
/// Only the link (or the confirmation) goes to standard output; nothing is logged.
/// </summary>
public static class HostCommands
{
    public const string SetupLink = "setup-link";
    public const string UnlockAdmin = "unlock-admin";

    /// <summary>The audit log's "who" for what the host's commands do.</summary>
    public const string HostActor = "host command";

    public static async Task<bool> TryRunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is not (SetupLink or UnlockAdmin))
        {
            return false;
        }

        // Read the configuration exactly as the portal does (appsettings, environment, command line), minus the command.
        var options = new WebApplicationOptions { Args = args.Skip(args[0] == UnlockAdmin ? 2 : 1).ToArray() };
        var configuration = WebApplication.CreateBuilder(options).Configuration;
        Environment.ExitCode = await RunAsync(args, configuration, Console.Out, Console.Error, TimeProvider.System, CancellationToken.None);
        return true;
    }

    /// <summary>Runs one command; returns the process exit code (0 done, 1 refused or failed, 2 bad usage).</summary>
    public static async Task<int> RunAsync(
        string[] args, IConfiguration configuration, TextWriter output, TextWriter error, TimeProvider time, CancellationToken ct)
    {
        var connectionString = configuration.GetConnectionString(DatabaseExtensions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await error.WriteLineAsync(
                "No database is configured: set ConnectionStrings__Panel as for the portal (scripts/run-portal.sh and compose do).");
            return 1;
        }

        if (args[0] == UnlockAdmin && (args.Length < 2 || string.IsNullOrWhiteSpace(args[1]) || args[1].StartsWith('-')))
        {
            await error.WriteLineAsync("Usage: unlock-admin EMAIL (the e-mail address the Admin signs in with).");
            return 2;
        }

        await using var services = BuildServices(configuration, connectionString, time);
        await using var scope = services.CreateAsyncScope();
        try
        {
            // A portal that never started has no tables yet; migrating is safe (it holds the portal's migration lock).
            await DatabaseInitializer.MigrateAsync(scope.ServiceProvider.GetRequiredService<PanelDbContext>(), ct);
            return args[0] == SetupLink
                ? await IssueSetupLinkAsync(scope.ServiceProvider, configuration, output, error, ct)
                : await UnlockAdminAsync(scope.ServiceProvider, args[1].Trim(), output, error, ct);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException { InnerException: Npgsql.NpgsqlException })
        {
            await error.WriteLineAsync(
                $"The portal's database at {DatabaseInitializer.DescribeTarget(connectionString)} did not answer: {ex.GetBaseException().Message}");
            return 1;
        }
    }

    private static async Task<int> IssueSetupLinkAsync(
        IServiceProvider services, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken ct)
    {
        string token;
        try
        {
            token = await services.GetRequiredService<SetupLinks>().IssueAsync(ct);
        }
        catch (AdminExistsException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return 1;
        }

        await services.GetRequiredService<IAuditLog>().RecordAsync(
            new AuditRecord(HostActor, AuditActions.SetupLinkIssue, "first Admin", Succeeded: true), CancellationToken.None);
        await error.WriteLineAsync(
            $"Open this link within {SetupLinks.Lifetime.TotalMinutes:0} minutes to create the first Admin; it works once, " +
            "and a newer link replaces it. Do not paste it where others can read it.");
        if (string.IsNullOrWhiteSpace(configuration["Panel:PublicUrl"]))
        {
            await error.WriteLineAsync("Panel__PublicUrl is not set: if the portal is reached under another address, use that address with the same path.");
        }

        await output.WriteLineAsync($"{AdminBootstrapper.PublicBaseUrl(configuration)}{SetupLinks.SetupPath}?token={token}");
        return 0;
    }

    private static async Task<int> UnlockAdminAsync(
        IServiceProvider services, string email, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var users = services.GetRequiredService<UserManager<PanelUser>>();
        var audit = services.GetRequiredService<IAuditLog>();
        var user = await users.FindByEmailAsync(email);
        string? refusal = null;
        if (user is null)
        {
            refusal = $"No user signs in with {email}. Check the address (the Users page lists them) and run the command again.";
        }
        else if (!await users.IsInRoleAsync(user, PanelRoles.Admin))
        {
            refusal = $"{email} is not an Admin; unlock-admin only unlocks Admins. An Admin unlocks other users on the Users page.";
        }

        if (refusal is not null)
        {
            await audit.RecordAsync(new AuditRecord(HostActor, AuditActions.UserUnlock, email, Succeeded: false, refusal), CancellationToken.None);
            await error.WriteLineAsync(refusal);
            return 1;
        }

        ct.ThrowIfCancellationRequested();
        Check(await users.SetLockoutEndDateAsync(user!, null));
        Check(await users.ResetAccessFailedCountAsync(user!));
        await audit.RecordAsync(new AuditRecord(HostActor, AuditActions.UserUnlock, email, Succeeded: true), CancellationToken.None);
        await output.WriteLineAsync($"{email} is unlocked and can sign in again.");
        return 0;
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(AdminBootstrapper.Describe(result));
        }
    }

    /// <summary>The few services the commands need; no logging provider, so nothing but the command's answer is written.</summary>
    private static ServiceProvider BuildServices(IConfiguration configuration, string connectionString, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddSingleton(time);
        services.AddLogging();
        services.AddDbContextFactory<PanelDbContext>(o => o.UseNpgsql(connectionString));
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContext());
        services.AddIdentityCore<PanelUser>()
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PanelDbContext>();
        services.AddScoped<SetupLinks>();
        services.AddSingleton<IAuditLog, AuditLog>();
        return services.BuildServiceProvider();
    }
}
