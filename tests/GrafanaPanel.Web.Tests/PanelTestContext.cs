using GrafanaPanel.Web.Docker;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace GrafanaPanel.Web.Tests;

/// <summary>
/// One bunit setup for every component test: MudBlazor with no transitions, loose JS interop, and the
/// project's own services replaced by small fakes. Disposed asynchronously (MudBlazor's popover service
/// is only IAsyncDisposable).
/// </summary>
public abstract class PanelTestContext : BunitContext, IAsyncLifetime
{
    protected PanelTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.ShowTransitionDuration = 0;
            options.SnackbarConfiguration.HideTransitionDuration = 0;
            options.PopoverOptions.ThrowOnDuplicateProvider = false;
        });
        Services.AddSingleton(Engine);
        Services.AddSingleton<IDockerEngine>(Engine);
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<EngineStatus>();
    }

    protected FakeDockerEngine Engine { get; } = new();

    /// <summary>Render as an interactive server circuit would (call after all services are added).</summary>
    protected void UseInteractiveServerRenderer() =>
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}

/// <summary>A Docker engine that answers what the test says.</summary>
public sealed class FakeDockerEngine : IDockerEngine
{
    public string Endpoint { get; set; } = "unix:///var/run/docker.sock";

    public EngineInfo? Info { get; set; } = new("20.10.24", "1.41", "linux/amd64");

    public Task<EngineInfo> GetInfoAsync(CancellationToken ct) =>
        Info is null
            ? Task.FromException<EngineInfo>(new DockerUnavailableException(Endpoint, "connection refused"))
            : Task.FromResult(Info);
}
