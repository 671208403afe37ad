namespace GrafanaPanel.Web.Features.Audit;

/// <summary>
/// The action names recorded in the audit log, <c>noun.verb</c>, in one place so that every feature
/// names its actions the same way and the page's action filter finds them.
/// </summary>
public static class AuditActions
{
    public const string UserCreate = "user.create";
    public const string UserSetRole = "user.set-role";
    public const string UserLock = "user.lock";
    public const string UserUnlock = "user.unlock";
    public const string UserResetPassword = "user.reset-password";
    public const string SetupLinkIssue = "setup-link.issue";
    public const string ModuleNotesEdit = "module.notes-edit";
    public const string PreClassCheck = "module.pre-class-check";
    public const string LearnerCreate = "learner.create";
    public const string LearnerRemove = "learner.remove";
    public const string LearnerTeamRemove = "learner.team-remove";

    /// <summary><c>service.start</c>, <c>service.stop</c>, <c>service.restart</c>.</summary>
    public static string Service(string verb) => $"service.{verb}";

    /// <summary><c>stack.start</c>, <c>stack.stop</c>, <c>stack.restart</c> (the whole stack).</summary>
    public static string Stack(string verb) => $"stack.{verb}";
}
