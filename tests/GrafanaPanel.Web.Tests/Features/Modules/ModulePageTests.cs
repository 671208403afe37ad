using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.Extensions.DependencyInjection;
using static GrafanaPanel.Web.Tests.Features.Modules.ModuleFixtures;
using static GrafanaPanel.Web.Tests.Features.Stack.StackFixtures;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class ModulePageTests : ModuleTestContext
{
    private readonly FakeNotes _notes = new();

    public ModulePageTests()
        : base(new FakeModuleCatalog(ModuleFixtures.Catalog(
            Module("module-4", services: ["grafana"], dashboards: ["organization-playground"], orgId: 1) with { LearnerAccounts = true })))
    {
        Services.AddSingleton<IModuleNotes>(_notes);
        Grafana.Dashboards.Add("organization-playground");
        Snapshot.ReplaceContainers([Container("grafana", health: "healthy")]);
    }

    [Fact]
    public void Reset_to_the_module_s_start_is_offered_to_instructors_once_the_module_s_baseline_exists()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
        Catalog.Set(ModuleFixtures.Catalog(Module("module-4", services: ["grafana"]) with { Baseline = "module-4-start" }));

        var without = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));
        without.WaitForAssertion(() => Assert.True(without.Find("[data-test=module-reset]").HasAttribute("disabled")));

        Resets.AddBaseline("module-4-start", DateTimeOffset.UtcNow, "grafana_data");
        var with = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));
        with.WaitForAssertion(() => Assert.False(with.Find("[data-test=module-reset]").HasAttribute("disabled")));
    }

    [Fact]
    public void A_module_without_a_start_has_no_reset()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);

        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));

        Assert.Empty(page.FindAll("[data-test=module-reset]"));
    }

    [Fact]
    public void A_viewer_has_no_reset_on_the_module_page()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        Catalog.Set(ModuleFixtures.Catalog(Module("module-4", services: ["grafana"]) with { Baseline = "module-4-start" }));
        Resets.AddBaseline("module-4-start", DateTimeOffset.UtcNow, "grafana_data");

        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));

        Assert.Empty(page.FindAll("[data-test=module-reset]"));
    }

    [Fact]
    public void Shows_goals_services_readiness_and_links_in_the_module_s_organization()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));

        Assert.Equal("Title of module-4", page.Find("[data-test=module-name]").TextContent);
        Assert.Equal("A goal", page.Find("[data-test=goals] li").TextContent);
        Assert.Contains("grafana: healthy", page.Find("[data-test=service][data-service=grafana]").TextContent);
        page.WaitForAssertion(() => Assert.Equal("ready", page.Find("[data-test=readiness]").GetAttribute("data-status")));
        Assert.Equal("http://lab.example:3000/d/organization-playground?orgId=1", page.Find("[data-test=module-link]").GetAttribute("href"));
    }

    [Fact]
    public void An_unknown_module_says_so()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-9"));

        Assert.Contains("no module 'module-9'", page.Find("[data-test=unknown-module]").TextContent);
    }

    [Fact]
    public void Notes_with_script_and_a_javascript_link_render_inert()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);
        _notes.Note = new ModuleNote
        {
            ModuleId = "module-4",
            Markdown = "Remember <script>alert('x')</script> and [click](javascript:alert(1)) **now**",
            UpdatedBy = "instructor@panel.test",
            UpdatedAt = DateTimeOffset.UtcNow,
        };

        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));

        var body = page.Find("[data-test=notes-body]");
        Assert.Empty(body.QuerySelectorAll("script"));
        Assert.Empty(body.QuerySelectorAll("a"));
        Assert.Contains("<script>alert('x')</script>", body.TextContent);
        Assert.NotNull(body.QuerySelector("strong"));
    }

    [Fact]
    public void A_viewer_cannot_edit_notes_or_see_the_learner_accounts_link()
    {
        AddAuthorization().SetAuthorized("viewer@panel.test").SetRoles(PanelRoles.Viewer);

        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));

        Assert.Empty(page.FindAll("[data-test=edit-notes]"));
        Assert.Empty(page.FindAll("[data-test=learners-link]"));
    }

    [Fact]
    public void An_instructor_edits_the_notes_sees_a_safe_preview_and_saves_them()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));
        page.WaitForAssertion(() => Assert.Equal("ready", page.Find("[data-test=readiness]").GetAttribute("data-status")));
        Assert.NotEmpty(page.FindAll("[data-test=learners-link]"));

        page.Find("[data-test=edit-notes]").Click();
        // The editor opens on the next render, which other async work of the page (readiness, baselines) may hold up.
        page.WaitForElement("textarea[data-test=notes-editor], [data-test=notes-editor] textarea").Input("# Plan\n<img src=x onerror=alert(1)>");

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-test=notes-preview] h1")));
        Assert.Empty(page.Find("[data-test=notes-preview]").QuerySelectorAll("img"));
        page.Find("[data-test=save-notes]").Click();
        page.WaitForAssertion(() => Assert.Equal("# Plan\n<img src=x onerror=alert(1)>", _notes.Saved));
        page.WaitForAssertion(() => Assert.Equal("Plan", page.Find("[data-test=notes-body] h1").TextContent));
    }

    [Fact]
    public void A_refused_save_shows_the_reason_and_keeps_the_editor_open()
    {
        AddAuthorization().SetAuthorized("instructor@panel.test").SetRoles(PanelRoles.Instructor);
        _notes.Refusal = new PanelAccessDeniedException("This action needs the Instructor role; your role is Viewer.");
        var page = Render<ModulePage>(p => p.Add(x => x.Id, "module-4"));
        page.WaitForAssertion(() => Assert.Equal("ready", page.Find("[data-test=readiness]").GetAttribute("data-status")));

        page.Find("[data-test=edit-notes]").Click();
        page.WaitForElement("[data-test=save-notes]").Click();

        page.WaitForAssertion(() => Assert.Contains("needs the Instructor role", page.Find("[data-test=notes-error]").TextContent));
        Assert.NotEmpty(page.FindAll("[data-test=notes-editor]"));
    }

    private sealed class FakeNotes : IModuleNotes
    {
        public ModuleNote? Note { get; set; }

        public string? Saved { get; private set; }

        public PanelAccessDeniedException? Refusal { get; set; }

        public Task<ModuleNote?> GetAsync(string moduleId, CancellationToken ct) => Task.FromResult(Note);

        public Task<ModuleNote> SaveAsync(string moduleId, string markdown, CancellationToken ct)
        {
            if (Refusal is not null)
            {
                return Task.FromException<ModuleNote>(Refusal);
            }

            Saved = markdown;
            Note = new ModuleNote { ModuleId = moduleId, Markdown = markdown, UpdatedBy = "instructor@panel.test", UpdatedAt = DateTimeOffset.UtcNow };
            return Task.FromResult(Note);
        }
    }
}
