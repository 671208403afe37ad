namespace GrafanaPanel.Web.Docker;

/// <summary>
/// Reports on the thread that reads the stream, in order. <see cref="Progress{T}"/> posts each report to the thread
/// pool instead, which can reorder events and deliver some after the stream has already ended.
/// </summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
