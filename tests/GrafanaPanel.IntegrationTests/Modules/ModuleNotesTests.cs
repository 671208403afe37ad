using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Modules;

/// <summary>Instructor notes in the real database, with the real role check and audit log.</summary>
public sealed class ModuleNotesTests : IAsyncLifetime
{
    private readonly PanelAppFactory _app = new();

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
    }

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    private async Task<ModuleNotes> NotesForAsync(string role)
    {
        var (_, gate) = await TestAccounts.SignedInAsync(_app.Services, role);
        return new ModuleNotes(_app.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(), gate,
            _app.Services.GetRequiredService<IAuditLog>(), TimeProvider.System);
    }

    private Task<List<AuditEntry>> AuditAsync() => TestAudit.EntriesAsync(_app, AuditActions.ModuleNotesEdit);

    [Theory]
    [InlineData(PanelRoles.Instructor)]
    [InlineData(PanelRoles.Admin)]
    public async Task An_instructor_or_admin_saves_notes_that_are_stored_and_audited(string role)
    {
        var notes = await NotesForAsync(role);

        await notes.SaveAsync("module-2", "First draft", CancellationToken.None);
        await notes.SaveAsync("module-2", "# Plan\n<script>alert(1)</script>", CancellationToken.None);

        var stored = await notes.GetAsync("module-2", CancellationToken.None);
        Assert.Equal("# Plan\n<script>alert(1)</script>", stored!.Markdown);
        Assert.EndsWith("@panel.test", stored.UpdatedBy);
        Assert.DoesNotContain("<script", NotesMarkdown.ToHtml(stored.Markdown));
        var audit = await AuditAsync();
        Assert.Equal(2, audit.Count);
        Assert.All(audit, e => Assert.True(e.Succeeded && e.Target == "module-2" && e.User == stored.UpdatedBy));
        Assert.Null(await notes.GetAsync("module-3", CancellationToken.None));
    }

    [Fact]
    public async Task A_viewer_is_refused_on_the_server_nothing_is_stored_and_the_refusal_is_audited()
    {
        var notes = await NotesForAsync(PanelRoles.Viewer);

        var refused = await Assert.ThrowsAsync<PanelAccessDeniedException>(() => notes.SaveAsync("module-1", "mine now", CancellationToken.None));

        Assert.Contains("Instructor", refused.Message);
        Assert.Null(await notes.GetAsync("module-1", CancellationToken.None));
        var entry = Assert.Single(await AuditAsync());
        Assert.False(entry.Succeeded);
        Assert.Equal("module-1", entry.Target);
    }

    [Fact]
    public async Task Notes_longer_than_the_limit_are_refused_with_the_limit()
    {
        var notes = await NotesForAsync(PanelRoles.Instructor);

        var refused = await Assert.ThrowsAsync<ModuleNoteRejectedException>(() =>
            notes.SaveAsync("module-1", new string('x', ModuleNote.MarkdownMaxLength + 1), CancellationToken.None));

        Assert.Contains("50,000", refused.Message);
    }
}
