using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;

namespace GrafanaPanel.Web.Tests.Features.Resets;

/// <summary>
/// A fake of the project's own reset service: baselines the test lists, plans from the real
/// <see cref="ResetPlan.Build"/> on the test's snapshot, and requests recorded (or refused with <see cref="RefuseWith"/>).
/// </summary>
public sealed class FakeResetService(StackSnapshot snapshot, string stackName = "grafana-training") : IResetService
{
    public List<Baseline> Baselines { get; } = [];

    public List<ResetRequest> Requests { get; } = [];

    public List<ResetRun> Runs { get; } = [];

    public string? RefuseWith { get; set; }

    public bool CanManage { get; set; } = true;

    public Guid? DefaultId { get; set; }

    public string StackName { get; } = stackName;

    public Task<bool> CanManageAsync() => Task.FromResult(CanManage);

    public Task<IReadOnlyList<Baseline>> ListBaselinesAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Baseline>>(Baselines);

    public Task<Baseline?> DefaultBaselineAsync(CancellationToken ct = default) => Task.FromResult(Baselines.FirstOrDefault(b => b.Id == DefaultId));

    public Task<ResetPlan> PlanAsync(Guid? baselineId, IReadOnlyList<string>? services, CancellationToken ct = default) =>
        Task.FromResult(ResetPlan.Build(snapshot.Current, services, Baselines.FirstOrDefault(b => b.Id == baselineId)));

    public Task<Guid> RequestResetAsync(ResetRequest request, CancellationToken ct = default)
    {
        Requests.Add(request);
        return RefuseWith is { } reason ? Task.FromException<Guid>(new ResetRefusedException(reason)) : Task.FromResult(Guid.NewGuid());
    }

    public Task<IReadOnlyList<ResetRun>> ListRunsAsync(int take = 50, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<ResetRun>>(Runs);

    public Task<ResetRun?> GetRunAsync(Guid runId, CancellationToken ct = default) => Task.FromResult(Runs.FirstOrDefault(r => r.Id == runId));

    public Task<Guid> CaptureBaselineAsync(BaselineInput input, CancellationToken ct = default) => Task.FromResult(Guid.NewGuid());

    public Task<Guid> PromoteAsync(Guid setId, BaselineInput input, CancellationToken ct = default) => Task.FromResult(Guid.NewGuid());

    public Task UpdateBaselineAsync(Guid baselineId, BaselineInput input, CancellationToken ct = default) => Task.CompletedTask;

    public Task SetDefaultAsync(Guid? baselineId, CancellationToken ct = default) => Task.CompletedTask;

    public Task DeleteBaselineAsync(Guid baselineId, CancellationToken ct = default) => Task.CompletedTask;

    public Task<IReadOnlyList<ResetSchedule>> ListSchedulesAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<ResetSchedule>>([]);

    public Task<Guid> CreateScheduleAsync(ResetScheduleInput input, CancellationToken ct = default) => Task.FromResult(Guid.NewGuid());

    public Task UpdateScheduleAsync(Guid scheduleId, ResetScheduleInput input, CancellationToken ct = default) => Task.CompletedTask;

    public Task DeleteScheduleAsync(Guid scheduleId, CancellationToken ct = default) => Task.CompletedTask;

    public Task SetSchedulePausedAsync(Guid scheduleId, bool paused, CancellationToken ct = default) => Task.CompletedTask;

    public Task RunScheduleNowAsync(Guid scheduleId, CancellationToken ct = default) => Task.CompletedTask;

    /// <summary>A completed baseline holding <paramref name="volumes"/>, taken at <paramref name="takenAt"/>.</summary>
    public Baseline AddBaseline(string name, DateTimeOffset takenAt, params string[] volumes)
    {
        var set = new BackupSet
        {
            Id = Guid.NewGuid(), CreatedAt = takenAt, Status = BackupSetStatus.Completed, Pinned = true,
            Volumes = [.. volumes.Select(v => new BackupSetVolume { VolumeName = v })],
        };
        var baseline = new Baseline { Id = Guid.NewGuid(), Name = name, SetId = set.Id, Set = set, CreatedAt = takenAt };
        Baselines.Add(baseline);
        return baseline;
    }
}
