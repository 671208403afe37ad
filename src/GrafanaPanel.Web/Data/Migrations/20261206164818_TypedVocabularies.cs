using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GrafanaPanel.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class TypedVocabularies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The trigger and step columns become enums stored in kebab case (Vocabulary), as the rows already are,
            // except for two drifts: pre-restore safety sets written as "safety", and any value no code knows (read
            // as manual until now).
            migrationBuilder.Sql("""UPDATE "BackupSets" SET "Trigger" = 'pre-restore' WHERE "Trigger" = 'safety';""");
            migrationBuilder.Sql("""
                UPDATE "BackupSets" SET "Trigger" = 'manual'
                WHERE "Trigger" NOT IN ('manual', 'schedule', 'pre-reset', 'pre-restore', 'baseline', 'import');
                """);
            migrationBuilder.Sql("""UPDATE "ResetRuns" SET "Trigger" = 'manual' WHERE "Trigger" NOT IN ('manual', 'schedule');""");
            // Step kinds in "ResetRuns"."Steps" have only ever been written as the nine kebab-case kinds.
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the schema is unchanged, and older versions read every value written here.
        }
    }
}
