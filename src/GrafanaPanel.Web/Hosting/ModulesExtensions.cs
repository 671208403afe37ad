using GrafanaPanel.Web.Features.Modules;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Hosting;

public static class ModulesExtensions
{
    public const string GrafanaHttpClientName = "grafana";

    public static void AddPanelModules(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GrafanaOptions>().BindConfiguration(GrafanaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ModulesOptions>().BindConfiguration(ModulesOptions.Section);
        services.AddOptions<PreClassOptions>().BindConfiguration(PreClassOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<GrafanaLinks>();
        services.AddHttpClient<IGrafanaApi, GrafanaApi>((sp, http) =>
            {
                var grafana = sp.GetRequiredService<IOptions<GrafanaOptions>>().Value;
                http.BaseAddress = new Uri(grafana.Url.EndsWith('/') ? grafana.Url : grafana.Url + "/");
                http.Timeout = grafana.RequestTimeout;
            })
            // Grafana is reached inside the compose network: never through a proxy from the environment, and a
            // redirect (to /login, say) is an answer to report, not to follow.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

        services.AddSingleton<ModuleCatalogFile>();
        services.AddSingleton<IModuleCatalog>(sp => sp.GetRequiredService<ModuleCatalogFile>());
        services.AddHostedService(sp => sp.GetRequiredService<ModuleCatalogFile>());
        services.AddScoped<ModuleReadinessChecker>();
        services.AddScoped<IPreClassCheck, PreClassCheck>();
        services.AddScoped<IModuleNotes, ModuleNotes>();
        services.AddScoped<ILearnerAccounts, LearnerAccounts>();
    }
}
