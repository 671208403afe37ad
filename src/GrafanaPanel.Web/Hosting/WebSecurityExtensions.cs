using GrafanaPanel.Web.Features.WebSecurity;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace GrafanaPanel.Web.Hosting;

/// <summary>
/// How the portal meets the network: HTTPS (with Kestrel's certificate setting or a self-signed one), HSTS and the
/// redirect from http, the reverse proxies whose X-Forwarded-For/Proto it believes, and the refusal of writes that
/// another origin started.
/// </summary>
public static class WebSecurityExtensions
{
    /// <summary>Probes and scrapes inside the compose network stay on plain http when both are bound.</summary>
    private static readonly string[] NotRedirected = ["/healthz", "/readyz", "/metrics"];

    public static void AddPanelWebSecurity(this WebApplicationBuilder builder)
    {
        var settings = WebSecuritySettings.Read(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);

        // Refused at start-up, before anything listens, with what to set.
        services.AddOptions<WebSecurityCheck>()
            .Validate(_ => settings.Errors.Count == 0, string.Join(" ", settings.Errors))
            .ValidateOnStart();

        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The defaults trust loopback; only what the settings name is trusted, hop by hop from the connection.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            options.ForwardLimit = null;
            foreach (var proxy in settings.KnownProxies)
            {
                options.KnownProxies.Add(proxy);
            }

            foreach (var network in settings.KnownNetworks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });

        services.Configure<AntiforgeryOptions>(options =>
            options.Cookie.SecurePolicy = settings.ServesHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);
        services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));

        if (settings.UsesSelfSigned)
        {
            services.AddSingleton<SelfSignedCertificate>();
            // Kestrel asks when it binds an https address without a certificate of its own settings.
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
                https.ServerCertificate ??= kestrel.ApplicationServices.GetRequiredService<SelfSignedCertificate>().Certificate));
        }
    }

    /// <summary>First in the pipeline: the client's address and scheme as a known proxy forwards them, then HTTPS.</summary>
    public static void UsePanelForwardedHeadersAndHttps(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<WebSecuritySettings>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebSecuritySettings));
        if (settings.TrustsProxies)
        {
            app.UseForwardedHeaders();
            WebSecurityLog.ForwardedHeadersTrusted(logger, string.Join(", ", settings.KnownProxies.Select(p => p.ToString()).Concat(settings.KnownNetworks.Select(n => n.ToString()))));
        }

        if (!settings.ServesHttps)
        {
            return;
        }

        if (settings.ConfiguredCertificate is { } configured)
        {
            WebSecurityLog.ConfiguredCertificateInUse(logger, configured);
        }

        if (settings.Hsts)
        {
            app.UseHsts();
        }

        app.UseWhen(http => !NotRedirected.Any(p => http.Request.Path.StartsWithSegments(p)), branch => branch.UseHttpsRedirection());
    }

    /// <summary>After authentication and antiforgery: they say whether a write is signed in and carries a valid token.</summary>
    public static void UsePanelCrossOriginGuard(this WebApplication app) => app.UseMiddleware<CrossOriginWriteGuard>();

    /// <summary>Carries the start-up check of the settings (the options system runs it before the server starts).</summary>
    private sealed class WebSecurityCheck;
}
