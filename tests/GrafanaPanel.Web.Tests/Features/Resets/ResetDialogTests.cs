using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Resets;

public sealed class ResetDialogTests : PanelTestContext
{
    private static readonly DateTimeOffset TakenAt = new(2026, 11, 20, 8, 30, 0, TimeSpan.Zero);
    private readonly StackSnapshot _snapshot = new(Options.Create(new StackOptions()), TimeProvider.System);
    private readonly FakeResetService _resets;
    private IRenderedComponent<MudDialogProvider> _provider = default!;

    public ResetDialogTests()
    {
        _snapshot.ReplaceContainers([
            Container("grafana", dependsOn: "postgres:service_healthy:false", volume: "grafana_data"),
            Container("postgres", volume: "postgres_data"),
            Container("panel", portal: true),
        ]);
        _resets = new FakeResetService(_snapshot);
        Services.AddSingleton(_snapshot);
        Services.AddSingleton<IResetService>(_resets);
        Services.AddSingleton(Options.Create(new ResetOptions()));
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
    }

    private async Task<IDialogReference> OpenAsync(Guid? baselineId = null, IReadOnlyList<string>? services = null)
    {
        Render<MudPopoverProvider>();
        _provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        IDialogReference? reference = null;
        await _provider.InvokeAsync(async () => reference = await dialogs.ShowAsync<ResetDialog>("Reset lab",
            new DialogParameters<ResetDialog> { { d => d.BaselineId, baselineId }, { d => d.Services, services } }));
        _provider.WaitForAssertion(() => _provider.Find("[data-test=plan-volumes]"));
        return reference!;
    }

    private bool SubmitDisabled => _provider.Find("[data-test=reset-submit]").HasAttribute("disabled");

    [Fact]
    public async Task The_whole_stack_needs_the_stack_s_name_typed_before_reset_is_possible()
    {
        var dialog = await OpenAsync();

        // Factory by default: every lab volume emptied, the portal's not listed.
        Assert.Equal(
            [("grafana_data", "empty"), ("postgres_data", "empty")],
            _provider.FindAll("[data-test=plan-volume]").Select(r => (r.GetAttribute("data-volume")!, r.GetAttribute("data-action")!)));
        Assert.True(SubmitDisabled);

        _provider.Find("[data-test=confirm-name] input, input[data-test=confirm-name]").Input("grafana-train");
        Assert.True(SubmitDisabled);
        _provider.Find("[data-test=confirm-name] input, input[data-test=confirm-name]").Input("grafana-training");
        _provider.WaitForAssertion(() => Assert.False(SubmitDisabled));
        _provider.Find("[data-test=reset-submit]").Click();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(result!.Canceled);
        Assert.IsType<Guid>(result.Data);
        var request = Assert.Single(_resets.Requests);
        Assert.Equal(new ResetRequest(null, null, true, "grafana-training"), request);
    }

    [Fact]
    public async Task A_module_s_baseline_and_services_are_preselected_and_the_plan_says_what_is_replaced_and_kept()
    {
        var baseline = _resets.AddBaseline("module-3-start", TakenAt, "grafana_data");

        await OpenAsync(baseline.Id, ["grafana", "postgres"]);

        Assert.Equal(
            [("grafana_data", "restore"), ("postgres_data", "keep")],
            _provider.FindAll("[data-test=plan-volume]").Select(r => (r.GetAttribute("data-volume")!, r.GetAttribute("data-action")!)));
        Assert.Contains("module-3-start", _provider.Find("[data-test=plan-summary]").TextContent);
        Assert.Contains(TakenAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm"), _provider.Find("[data-test=plan-summary]").TextContent);
        // Chosen services: no name to type.
        Assert.Empty(_provider.FindAll("[data-test=confirm-name]"));
        Assert.False(SubmitDisabled);
    }

    [Fact]
    public async Task A_refusal_is_shown_in_the_dialog_which_stays_open()
    {
        _resets.RefuseWith = "A reset to baseline \"factory\" asked for by ann@panel.test is running; only one reset runs at a time.";
        var dialog = await OpenAsync(services: ["grafana"]);

        _provider.Find("[data-test=reset-submit]").Click();

        _provider.WaitForAssertion(() => Assert.Contains("only one reset runs at a time", _provider.Find("[data-test=reset-error]").TextContent));
        Assert.False(dialog.Result.IsCompleted);
    }

    [Fact]
    public async Task Turning_off_the_safety_backup_warns_that_the_data_cannot_be_brought_back()
    {
        await OpenAsync(services: ["grafana"]);
        Assert.Empty(_provider.FindAll("[data-test=no-safety]"));

        _provider.Find("[data-test=safety] input, input[data-test=safety]").Change(false);

        _provider.WaitForAssertion(() => Assert.Single(_provider.FindAll("[data-test=no-safety]")));
    }
}
