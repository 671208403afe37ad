namespace GrafanaPanel.Web.Features.Backups;

/// <summary>
/// Audit action names of the backup feature (<c>backup.*</c>, <c>backup-schedule.*</c>). A request is recorded under
/// its action when it is accepted or refused; the job it starts records its outcome under the same name with
/// <c>.job</c> (succeeded, or failed with the error), as the user who asked (or <c>schedule:NAME</c>, or <c>system</c>).
/// </summary>
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
    /// <summary>Who a job acts for when no user asked: the weekly verification, the rescan after a restore, recovery.</summary>
    public const string SystemUser = "system";

    public const string BackupJob = "backup.create.job";
    public const string RestoreJob = "backup.restore.job";
    public const string VerifyJob = "backup.verify.job";
    public const string RetentionJob = "backup.retention.job";
    public const string RescanJob = "backup.rescan.job";
    public const string ScheduleCreate = "backup-schedule.create";
    public const string ScheduleUpdate = "backup-schedule.update";
    public const string ScheduleDelete = "backup-schedule.delete";
    public const string SchedulePause = "backup-schedule.pause";
    public const string ScheduleResume = "backup-schedule.resume";
    public const string ScheduleRunNow = "backup-schedule.run-now";
}
