using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Hosting;

/// <summary>
/// A Blazor circuit is one DI scope that lives as long as the page, and its events overlap (a timer, a progress
/// event and a click): the services pages call must not share one database context between their calls.
/// </summary>
public sealed class CircuitServicesTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new();

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
    }

    public async ValueTask DisposeAsync() => await ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task Overlapping_reads_of_one_circuits_backup_and_reset_services_all_succeed()
    {
        await using var circuit = _app.Services.CreateAsyncScope();
        var backups = circuit.ServiceProvider.GetRequiredService<IBackupService>();
        var resets = circuit.ServiceProvider.GetRequiredService<IResetService>();

        var reads = Enumerable.Range(0, 10).SelectMany(_ => new Task[]
        {
            backups.ListSetsAsync(), backups.ListSchedulesAsync(),
            resets.ListBaselinesAsync(), resets.ListRunsAsync(), resets.ListSchedulesAsync(),
        });

        // One context per circuit would throw "A second operation was started on this context instance".
        await Task.WhenAll(reads);
    }
}
