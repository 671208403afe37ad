
namespace GrafanaPanel.Web.Features.Resets;

/// <summary>What the reset dialog submits.</summary>
/// <param name="BaselineId">Null: the factory baseline (empty volumes).</param>
/// <param name="Services">Null or empty: the whole stack.</param>
/// <param name="Confirmation">For the whole stack: the stack's name, typed by the user.</param>
public sealed record ResetRequest(Guid? BaselineId, IReadOnlyList<string>? Services, bool SafetyBackup, string? Confirmation);

/// <summary>What the baseline form submits.</summary>
public sealed record BaselineInput(string Name, string? Description, string? ModuleId);

/// <summary>What the reset-schedule form submits.</summary>
public sealed record ResetScheduleInput(string Name, string Cron, string TimeZone, Guid? BaselineId, IReadOnlyList<string>? Services, bool SafetyBackup);

/// <summary>The pages' view of resets and baselines: reads for everyone signed in, actions for Instructor and Admin.</summary>
public interface IResetService
{
    string StackName { get; }

    Task<bool> CanManageAsync();

    Task<IReadOnlyList<Baseline>> ListBaselinesAsync(CancellationToken ct = default);

    /// <summary>The baseline the dialog offers first: the one marked default, else <c>Resets:DefaultBaseline</c>; null is factory.</summary>
    Task<Baseline?> DefaultBaselineAsync(CancellationToken ct = default);

    /// <summary>What a reset would do now (for the dialog); refuses unknown services or baselines.</summary>
    Task<ResetPlan> PlanAsync(Guid? baselineId, IReadOnlyList<string>? services, CancellationToken ct = default);

    /// <summary>Queues a reset and returns its run id; refused when another stack-changing job runs.</summary>
    Task<Guid> RequestResetAsync(ResetRequest request, CancellationToken ct = default);

    Task<IReadOnlyList<ResetRun>> ListRunsAsync(int take = 50, CancellationToken ct = default);

    Task<ResetRun?> GetRunAsync(Guid runId, CancellationToken ct = default);

    /// <summary>Backs up every lab volume now (pause mode) as a new baseline; usable once the backup completes.</summary>
    Task<Guid> CaptureBaselineAsync(BaselineInput input, CancellationToken ct = default);

    Task<Guid> PromoteAsync(Guid setId, BaselineInput input, CancellationToken ct = default);

    Task UpdateBaselineAsync(Guid baselineId, BaselineInput input, CancellationToken ct = default);

    /// <summary>Marks the baseline the dialog offers first; null goes back to the configured default.</summary>
    Task SetDefaultAsync(Guid? baselineId, CancellationToken ct = default);

    /// <summary>Removes the baseline; its backup set stays (unpinned) on the Backups page. Refused while a schedule uses it.</summary>
    Task DeleteBaselineAsync(Guid baselineId, CancellationToken ct = default);

    Task<IReadOnlyList<ResetSchedule>> ListSchedulesAsync(CancellationToken ct = default);

    Task<Guid> CreateScheduleAsync(ResetScheduleInput input, CancellationToken ct = default);

    Task UpdateScheduleAsync(Guid scheduleId, ResetScheduleInput input, CancellationToken ct = default);

    Task DeleteScheduleAsync(Guid scheduleId, CancellationToken ct = default);

    Task SetSchedulePausedAsync(Guid scheduleId, bool paused, CancellationToken ct = default);

    Task RunScheduleNowAsync(Guid scheduleId, CancellationToken ct = default);
}
