using System.Globalization;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>An instructor's notes on one module, in Markdown, keyed by the module's catalog id.</summary>
public sealed class ModuleNote
{
    public const int ModuleIdMaxLength = 64;
    public const int MarkdownMaxLength = 50_000;
    public const int UpdatedByMaxLength = 256;

    public string ModuleId { get; set; } = "";

    public string Markdown { get; set; } = "";

    public DateTimeOffset UpdatedAt { get; set; }

    public string UpdatedBy { get; set; } = "";
}

public sealed class ModuleNoteConfiguration : IEntityTypeConfiguration<ModuleNote>
{
    public void Configure(EntityTypeBuilder<ModuleNote> note)
    {
        note.ToTable("ModuleNotes");
        note.HasKey(n => n.ModuleId);
        note.Property(n => n.ModuleId).HasMaxLength(ModuleNote.ModuleIdMaxLength);
        note.Property(n => n.Markdown).HasMaxLength(ModuleNote.MarkdownMaxLength);
        note.Property(n => n.UpdatedAt).HasColumnType("timestamp with time zone");
        note.Property(n => n.UpdatedBy).HasMaxLength(ModuleNote.UpdatedByMaxLength);
    }
}

/// <summary>Thrown when a note cannot be saved; the message says why.</summary>
public sealed class ModuleNoteRejectedException(string message) : PanelRefusalException(message);

/// <summary>Module notes as the module page uses them (a seam for component tests).</summary>
public interface IModuleNotes
{
    Task<ModuleNote?> GetAsync(string moduleId, CancellationToken ct);

    Task<ModuleNote> SaveAsync(string moduleId, string markdown, CancellationToken ct);
}

/// <summary>Reading and editing module notes; editing is for Instructors and Admins, checked and audited at each save.</summary>
public sealed class ModuleNotes(IDbContextFactory<PanelDbContext> dbFactory, RoleGate gate, IAuditLog audit, TimeProvider time) : IModuleNotes
{
    public async Task<ModuleNote?> GetAsync(string moduleId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ModuleNotes.AsNoTracking().FirstOrDefaultAsync(n => n.ModuleId == moduleId, ct);
    }

    public async Task<ModuleNote> SaveAsync(string moduleId, string markdown, CancellationToken ct)
    {
        var actor = await gate.RequireAuditedAsync(PanelRoles.Instructor, audit, AuditActions.ModuleNotesEdit, moduleId, ct);
        try
        {
            if (moduleId.Length is 0 or > ModuleNote.ModuleIdMaxLength)
            {
                throw new ModuleNoteRejectedException("That is not a module id.");
            }

            markdown ??= "";
            if (markdown.Length > ModuleNote.MarkdownMaxLength)
            {
                throw new ModuleNoteRejectedException(string.Create(CultureInfo.InvariantCulture,
                    $"The notes are {markdown.Length:N0} characters long; at most {ModuleNote.MarkdownMaxLength:N0} are kept. Shorten them."));
            }

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var note = await db.ModuleNotes.FirstOrDefaultAsync(n => n.ModuleId == moduleId, ct);
            if (note is null)
            {
                note = new ModuleNote { ModuleId = moduleId };
                db.ModuleNotes.Add(note);
            }

            note.Markdown = markdown;
            note.UpdatedAt = time.GetUtcNow().ToUniversalTime();
            note.UpdatedBy = actor;
            await db.SaveChangesAsync(ct);
            await audit.RecordAsync(new AuditRecord(actor, AuditActions.ModuleNotesEdit, moduleId, true), CancellationToken.None);
            return note;
        }
        catch (Exception ex) when (ex is ModuleNoteRejectedException or DbUpdateException)
        {
            await audit.RecordAsync(new AuditRecord(actor, AuditActions.ModuleNotesEdit, moduleId, false, ex.Message), CancellationToken.None);
            throw;
        }
    }
}
