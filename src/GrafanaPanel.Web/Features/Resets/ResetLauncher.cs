using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace GrafanaPanel.Web.Features.Resets;

/// <summary>Opens the reset dialog and, when a reset was queued, the live progress view of that run.</summary>
public static class ResetLauncher
{
    public static async Task OpenAsync(IDialogService dialogs, NavigationManager navigation, Guid? baselineId = null, IReadOnlyList<string>? services = null)
    {
        var parameters = new DialogParameters<ResetDialog>
        {
            { d => d.BaselineId, baselineId },
            { d => d.Services, services },
        };
        var dialog = await dialogs.ShowAsync<ResetDialog>("Reset lab", parameters,
            new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, CloseOnEscapeKey = true });
        var result = await dialog.Result;
        if (result is { Canceled: false, Data: Guid runId })
        {
            navigation.NavigateTo($"resets/runs/{runId}");
        }
    }
}
