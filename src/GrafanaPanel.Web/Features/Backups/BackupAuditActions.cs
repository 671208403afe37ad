namespace GrafanaPanel.Web.Features.Backups;

/// <summary>Audit action names of the backup feature (<c>backup.*</c>, <c>backup-schedule.*</c>).</summary>
public static class BackupAuditActions
{
    public const string Create = "backup.create";
    public const string Restore = "backup.restore";
    public const string Verify = "backup.verify";
    public const string Pin = "backup.pin";
    public const string Unpin = "backup.unpin";
    public const string Delete = "backup.delete";
    public const string Download = "backup.download";
    public const string Import = "backup.import";
    public const string Rescan = "backup.rescan";
    public const string Retention = "backup.retention";
    public const string ScheduleCreate = "backup-schedule.create";
    public const string ScheduleUpdate = "backup-schedule.update";
    public const string ScheduleDelete = "backup-schedule.delete";
    public const string SchedulePause = "backup-schedule.pause";
    public const string ScheduleResume = "backup-schedule.resume";
    public const string ScheduleRunNow = "backup-schedule.run-now";
}
