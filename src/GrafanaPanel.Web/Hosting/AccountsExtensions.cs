using System.Threading.RateLimiting;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Antiforgery;

namespace GrafanaPanel.Web.Hosting;

public static class AccountsExtensions
{
    public const string LoginPath = "/account/login";
    public const string SignInRateLimitPolicy = "sign-in";

    public static void AddPanelAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Features.Accounts.SignInOptions>().BindConfiguration(Features.Accounts.SignInOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var signIn = builder.Configuration.GetSection(Features.Accounts.SignInOptions.Section).Get<Features.Accounts.SignInOptions>() ?? new();

        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingIdentityAuthenticationStateProvider>();
        // The sign-in cookie everywhere; a personal access token (Bearer gp_…) only on /api/v1, never on pages or the hub.
        services.AddAuthentication(ApiAuthentication.Scheme)
            .AddPolicyScheme(ApiAuthentication.Scheme, "Cookie, or an access token on /api/v1", options =>
                options.ForwardDefaultSelector = http => AccessTokenAuthenticationHandler.AppliesTo(http.Request)
                    ? AccessTokenAuthenticationHandler.SchemeName
                    : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, AccessTokenAuthenticationHandler>(AccessTokenAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();

        services.AddIdentityCore<PanelUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = signIn.MinimumPasswordLength;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequiredUniqueChars = 4;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = signIn.MaxFailedAttempts;
                options.Lockout.DefaultLockoutTimeSpan = signIn.LockoutDuration;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PanelDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        // Role or lockout changes reach open sessions within a minute through the security stamp.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));

        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = LoginPath;
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/account/access-denied";
            options.ExpireTimeSpan = signIn.SessionLifetime;
            options.SlidingExpiration = true;
            options.Cookie.Name = "GrafanaPanel.Auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            // Served over https: Secure always. Plain http: Secure when a known proxy forwards https (see WebSecurityExtensions).
            options.Cookie.SecurePolicy = Features.WebSecurity.WebSecuritySettings.Read(builder.Configuration).ServesHttps
                ? CookieSecurePolicy.Always
                : CookieSecurePolicy.SameAsRequest;
            options.Events.OnRedirectToAccessDenied = context =>
            {
                // The job dashboard and any non-page endpoint answer a plain 403; pages get a friendly page.
                if (context.Request.Path.StartsWithSegments("/jobs") || ApiRoutes.IsApi(context.Request) || !AcceptsHtml(context.Request))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                }

                context.Response.Redirect(context.RedirectUri);
                return Task.CompletedTask;
            };
            options.Events.OnRedirectToLogin = context =>
            {
                if (ApiRoutes.IsApi(context.Request) || (!AcceptsHtml(context.Request) && !context.Request.Path.StartsWithSegments("/jobs")))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                }

                context.Response.Redirect(context.RedirectUri);
                return Task.CompletedTask;
            };
        });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(PanelPolicies.Admin, p => p.RequireRole(PanelRoles.Admin))
            .AddPolicy(PanelPolicies.Instructor, p => p.RequireRole(PanelRoles.Admin, PanelRoles.Instructor));

        // Keys live in the panel database, encrypted with a certificate kept in the portal's own volume.
        builder.AddPanelDataProtection();

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Partition by the client's address: the connection's, or the one a known proxy forwards (Panel__KnownProxies);
            // X-Forwarded-For from any other address is ignored.
            options.AddPolicy(SignInRateLimitPolicy, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = signIn.AttemptsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            options.OnRejected = async (context, ct) =>
            {
                if (ApiRoutes.IsApi(context.HttpContext.Request))
                {
                    await ApiRateLimit.RejectAsync(context, ct);
                    return;
                }

                context.HttpContext.Response.ContentType = "text/plain";
                await context.HttpContext.Response.WriteAsync("Too many sign-in attempts from this address. Wait a minute and try again.", ct);
            };
        });

        services.AddScoped<SetupLinks>();
        services.AddScoped<ISetupLinkCheck>(sp => sp.GetRequiredService<SetupLinks>());
        services.AddScoped<AdminBootstrapper>();
        services.AddScoped<RoleGate>();
        services.AddScoped<UserAdministration>();
        services.AddScoped<IUserPreferences, UserPreferences>();
    }

    public static void MapPanelAccounts(this WebApplication app)
    {
        // Forms post here (with an antiforgery token); the pages themselves are static Razor components.
        var account = app.MapGroup("/account");
        account.MapPost("/signin", SignInEndpoints.SignInAsync).AllowAnonymous().RequireRateLimiting(SignInRateLimitPolicy);
        account.MapPost("/setup", SignInEndpoints.SetupAsync).AllowAnonymous().RequireRateLimiting(SignInRateLimitPolicy);
        account.MapPost("/logout", SignInEndpoints.SignOutAsync).WithMetadata(new RequireAntiforgeryTokenAttribute());
    }

    private static bool AcceptsHtml(HttpRequest request) =>
        request.Headers.Accept.Any(a => a?.Contains("text/html", StringComparison.OrdinalIgnoreCase) == true);
}
