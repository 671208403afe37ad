using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>
/// Creates the roles and, while no user exists, the first Admin: from <c>Panel__Admin__*</c> when set,
/// otherwise through a one-time setup link that only someone on the host can get (the <c>setup-link</c> command): the
/// log says how to get it and never holds a link. There is never a default password.
/// </summary>
public sealed class AdminBootstrapper(
    UserManager<PanelUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<AdminOptions> adminOptions,
    ILogger<AdminBootstrapper> logger)
{
    public async Task EnsureRolesAndFirstAdminAsync(CancellationToken ct)
    {
        foreach (var role in PanelRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
        }

        if (await users.Users.AnyAsync(ct))
        {
            return;
        }

        var admin = adminOptions.Value;
        if (!string.IsNullOrWhiteSpace(admin.Email) || !string.IsNullOrEmpty(admin.Password))
        {
            var result = await CreateAdminAsync(admin.Email ?? "", admin.Password ?? "");
            if (result.Succeeded)
            {
                logger.LogInformation("Created the first Admin {Email} from Panel__Admin__Email", admin.Email);
                return;
            }

            logger.LogError(
                "The first Admin was not created from Panel__Admin__Email/Panel__Admin__Password: {Problems} " +
                "Set a stronger password and restart, or create the first Admin with a setup link (see the next message).",
                Describe(result));
        }

        logger.LogWarning("No Admin exists yet. To create the first Admin, on the host {HowToGetALink}", SetupLinks.HowToGetALink);
    }

    /// <summary>Creates an Admin while no user exists; refuses weak passwords with Identity's messages.</summary>
    public async Task<IdentityResult> CreateAdminAsync(string email, string password)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return IdentityResult.Failed(new IdentityError { Code = "EmailMissing", Description = "An e-mail address is required." });
        }

        var user = new PanelUser { UserName = email, Email = email, EmailConfirmed = true };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            return created;
        }

        return await users.AddToRoleAsync(user, PanelRoles.Admin);
    }

    public static string Describe(IdentityResult result) =>
        string.Join(" ", result.Errors.Select(e => e.Description));

    /// <summary>The portal's address for links printed on the host: <c>Panel__PublicUrl</c>, else the first listening URL.</summary>
    public static string PublicBaseUrl(IConfiguration configuration)
    {
        var configured = configuration["Panel:PublicUrl"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.TrimEnd('/');
        }

        var urls = configuration["urls"] ?? configuration["ASPNETCORE_URLS"]
            ?? (configuration["ASPNETCORE_HTTP_PORTS"] is { Length: > 0 } ports ? $"http://localhost:{ports.Split(';')[0]}" : null)
            ?? "http://localhost:8585";
        return urls.Split(';', StringSplitOptions.RemoveEmptyEntries)[0].Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://0.0.0.0", "://localhost").TrimEnd('/');
    }
}
