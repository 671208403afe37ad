namespace GrafanaPanel.Web.Features.Backups;

/// <summary>The backup engine's repeated log events, source-generated.</summary>
internal static partial class BackupLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Backup set {SetId}: {VolumeName} written, {TarBytes} tar bytes into {CompressedBytes} bytes")]
    public static partial void VolumeWritten(ILogger logger, Guid setId, string volumeName, long tarBytes, long compressedBytes);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Backup set {SetId} failed; its folder {Folder} was removed")]
    public static partial void BackupFailed(ILogger logger, Exception exception, Guid setId, string folder);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Could not resume container {ContainerId} after {Operation} of set {SetId}; the journal is kept for recovery")]
    public static partial void ResumeFailed(ILogger logger, Exception exception, string containerId, string operation, Guid setId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Could not remove helper container {ContainerId}; start-up recovery removes it")]
    public static partial void HelperNotRemoved(ILogger logger, Exception exception, string containerId);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Restore of set {SetId} failed after changing {VolumeName}; rolling back to safety backup {SafetySetId}")]
    public static partial void RollingBack(ILogger logger, Exception exception, Guid setId, string volumeName, Guid safetySetId);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Critical, Message = "Rollback of the restore of set {SetId} to safety backup {SafetyFolder} failed")]
    public static partial void RollbackFailed(ILogger logger, Exception exception, Guid setId, string safetyFolder);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Start-up recovery: {Action}")]
    public static partial void Recovered(ILogger logger, string action);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Start-up recovery waits for the Docker engine: {Reason}")]
    public static partial void RecoveryWaiting(ILogger logger, string reason);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Information, Message = "Restored {VolumeName} from set {SetId}")]
    public static partial void VolumeRestored(ILogger logger, string volumeName, Guid setId);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Error, Message = "Recovery could not undo everything: {Problem}")]
    public static partial void RecoveryProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Error, Message = "Backup recovery failed; it is tried again")]
    public static partial void RecoveryFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Warning,
        Message = "Volume {Volume}: not enough room to keep its old content beside the new ({Bytes} bytes needed), so it was emptied before the restore")]
    public static partial void EmptiedForLackOfRoom(ILogger logger, string volume, long bytes);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Error,
        Message = "Volume {Volume}: putting its old content back after a failed restore failed; it is kept inside the volume in {Folder}")]
    public static partial void PutBackFailed(ILogger logger, Exception exception, string volume, string folder);
}
