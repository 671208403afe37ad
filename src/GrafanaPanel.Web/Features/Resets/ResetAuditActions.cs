namespace GrafanaPanel.Web.Features.Resets;

/// <summary>Audit action names of lab resets (<c>reset.*</c>, <c>baseline.*</c>, <c>reset-schedule.*</c>).</summary>
public static class ResetAuditActions
{
    /// <summary>A reset asked for (refused or queued).</summary>
    public const string Request = "reset.request";

    /// <summary>A reset's outcome, recorded by the job when it ends.</summary>
    public const string Run = "reset.run";

    public const string BaselineCapture = "baseline.capture";
    public const string BaselinePromote = "baseline.promote";
    public const string BaselineUpdate = "baseline.update";
    public const string BaselineDefault = "baseline.set-default";
    public const string BaselineDelete = "baseline.delete";
    public const string ScheduleCreate = "reset-schedule.create";
    public const string ScheduleUpdate = "reset-schedule.update";
    public const string ScheduleDelete = "reset-schedule.delete";
    public const string SchedulePause = "reset-schedule.pause";
    public const string ScheduleResume = "reset-schedule.resume";
    public const string ScheduleRunNow = "reset-schedule.run-now";
}
