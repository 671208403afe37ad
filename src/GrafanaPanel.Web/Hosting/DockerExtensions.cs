using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Hosting;

public static class DockerExtensions
{
    public static void AddPanelDocker(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DockerOptions>().BindConfiguration(DockerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IDockerEngine, DockerEngine>();
        builder.Services.AddSingleton<EngineStatus>();
        builder.Services.AddHostedService<EngineMonitor>();
    }
}
