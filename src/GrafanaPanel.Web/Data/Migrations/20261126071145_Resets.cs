using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GrafanaPanel.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Resets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Baselines",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Description = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    ModuleId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    SetId = table.Column<Guid>(type: "uuid", nullable: false),
                    IsDefault = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Baselines", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Baselines_BackupSets_SetId",
                        column: x => x.SetId,
                        principalTable: "BackupSets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ResetRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    RequestedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Trigger = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ScheduleId = table.Column<Guid>(type: "uuid", nullable: true),
                    BaselineId = table.Column<Guid>(type: "uuid", nullable: true),
                    BaselineName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Services = table.Column<List<string>>(type: "text[]", nullable: false),
                    SafetyBackup = table.Column<bool>(type: "boolean", nullable: false),
                    SafetySetId = table.Column<Guid>(type: "uuid", nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Active = table.Column<bool>(type: "boolean", nullable: false),
                    Error = table.Column<string>(type: "text", nullable: true),
                    DurationMs = table.Column<long>(type: "bigint", nullable: true),
                    Steps = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ResetRuns", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ResetSchedules",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Cron = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    TimeZone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    BaselineId = table.Column<Guid>(type: "uuid", nullable: true),
                    Services = table.Column<List<string>>(type: "text[]", nullable: false),
                    SafetyBackup = table.Column<bool>(type: "boolean", nullable: false),
                    Paused = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ResetSchedules", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Baselines_IsDefault",
                table: "Baselines",
                column: "IsDefault",
                unique: true,
                filter: "\"IsDefault\"");

            migrationBuilder.CreateIndex(
                name: "IX_Baselines_Name",
                table: "Baselines",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Baselines_SetId",
                table: "Baselines",
                column: "SetId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ResetRuns_Active",
                table: "ResetRuns",
                column: "Active",
                unique: true,
                filter: "\"Active\"");

            migrationBuilder.CreateIndex(
                name: "IX_ResetRuns_RequestedAt",
                table: "ResetRuns",
                column: "RequestedAt");

            migrationBuilder.CreateIndex(
                name: "IX_ResetSchedules_BaselineId",
                table: "ResetSchedules",
                column: "BaselineId");

            migrationBuilder.CreateIndex(
                name: "IX_ResetSchedules_Name",
                table: "ResetSchedules",
                column: "Name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Baselines");

            migrationBuilder.DropTable(
                name: "ResetRuns");

            migrationBuilder.DropTable(
                name: "ResetSchedules");
        }
    }
}
