using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class LearnersPageTests : PanelTestContext
{
    private readonly FakeLearners _learners = new();
    private IRenderedComponent<MudDialogProvider> _dialogs = default!;

    public LearnersPageTests()
    {
        Services.AddSingleton<ILearnerAccounts>(_learners);
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
    }

    private IRenderedComponent<LearnersPage> RenderPage()
    {
        // Selects and confirmations render through MudBlazor's providers, as in the app's layout.
        Render<MudPopoverProvider>();
        _dialogs = Render<MudDialogProvider>();
        var page = Render<LearnersPage>();
        page.WaitForAssertion(() => Assert.Equal(1, _learners.Lists));
        return page;
    }

    [Fact]
    public void Created_learners_show_their_password_once_each_failure_on_its_own_line_and_hiding_removes_the_passwords()
    {
        var page = RenderPage();
        page.Find("input[data-test=learner-count], [data-test=learner-count] input").Change("3");
        page.Find("input[data-test=learner-teams], [data-test=learner-teams] input").Change("2");

        page.Find("[data-test=create-learners]").Click();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-test=created-learner]").Count));
        Assert.Equal(new LearnerRequest(3, 2, "Editor"), _learners.Requests.Single());
        Assert.Equal(["Pw-1-abcdefgh!", "Pw-2-abcdefgh!", ""], page.FindAll("[data-test=password]").Select(p => p.TextContent));
        var failed = page.Find("[data-test=created-learner][data-login=learner-03]");
        Assert.Equal("false", failed.GetAttribute("data-succeeded"));
        Assert.Contains("User already exists", failed.TextContent);
        Assert.Equal(2, _learners.Lists);

        page.Find("[data-test=hide-passwords]").Click();

        Assert.Empty(page.FindAll("[data-test=created-learner]"));
        Assert.DoesNotContain("Pw-1-abcdefgh!", page.Markup);
    }

    [Fact]
    public void The_list_shows_each_learner_s_state_in_grafana()
    {
        _learners.Listed.Add(new LearnerView(1, "learner-01", "Learners · Team 1", 12, DateTimeOffset.UtcNow, "instructor@panel.test", LearnerState.Present, null));
        _learners.Listed.Add(new LearnerView(2, "learner-02", null, 13, DateTimeOffset.UtcNow, "instructor@panel.test", LearnerState.Replaced, "Grafana's user 13 is now 'bob'"));

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal(["learner-01", "learner-02"], page.FindAll("[data-test=learner-login]").Select(c => c.TextContent)));
        Assert.Equal(["present", "id reused by another user"], page.FindAll("[data-test=learner-state]").Select(c => c.TextContent));
    }

    [Fact]
    public void Remove_all_asks_first_then_shows_what_was_removed()
    {
        _learners.Listed.Add(new LearnerView(1, "learner-01", null, 12, DateTimeOffset.UtcNow, "instructor@panel.test", LearnerState.Present, null));
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=learner-login]")));

        page.Find("[data-test=remove-all-learners]").Click();
        Assert.Equal(0, _learners.RemoveAlls);
        _dialogs.WaitForAssertion(() => Assert.Contains("Remove every learner account?", _dialogs.Markup));
        _dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Remove all").Click();

        page.WaitForAssertion(() => Assert.Equal("learner-01 was removed from Grafana.", page.Find("[data-test=removal]").TextContent));
        Assert.Equal(1, _learners.RemoveAlls);
    }

    [Fact]
    public void A_refusal_is_shown()
    {
        _learners.Refusal = new PanelAccessDeniedException("This action needs the Instructor role; your role is Viewer.");

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Contains("needs the Instructor role", page.Find("[data-test=learners-error]").TextContent));
    }

    private sealed class FakeLearners : ILearnerAccounts
    {
        public List<LearnerRequest> Requests { get; } = [];

        public List<LearnerView> Listed { get; } = [];

        public int Lists { get; private set; }

        public int RemoveAlls { get; private set; }

        public PanelAccessDeniedException? Refusal { get; set; }

        public Task<IReadOnlyList<LearnerOutcome>> CreateAsync(LearnerRequest request, CancellationToken ct)
        {
            Requests.Add(request);
            return Task.FromResult<IReadOnlyList<LearnerOutcome>>(
            [
                new LearnerOutcome("learner-01", "Learners · Team 1", true, "Pw-1-abcdefgh!", null),
                new LearnerOutcome("learner-02", "Learners · Team 2", true, "Pw-2-abcdefgh!", null),
                new LearnerOutcome("learner-03", "Learners · Team 1", false, null, "Not created: Grafana refused creating user learner-03: User already exists (HTTP 412)."),
            ]);
        }

        public Task<IReadOnlyList<LearnerView>> ListAsync(CancellationToken ct)
        {
            Lists++;
            return Refusal is not null ? Task.FromException<IReadOnlyList<LearnerView>>(Refusal) : Task.FromResult<IReadOnlyList<LearnerView>>(Listed.ToList());
        }

        public Task<IReadOnlyList<LearnerRemoval>> RemoveAsync(IReadOnlyCollection<long> recordIds, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<LearnerRemoval>>([]);

        public Task<IReadOnlyList<LearnerRemoval>> RemoveAllAsync(CancellationToken ct)
        {
            RemoveAlls++;
            Listed.Clear();
            return Task.FromResult<IReadOnlyList<LearnerRemoval>>([new LearnerRemoval("learner-01", true, "learner-01 was removed from Grafana.")]);
        }
    }
}
