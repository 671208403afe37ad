namespace GrafanaPanel.Web.Docker;

/// <summary>
/// A read-only stream from the daemon whose read failures come out as the project's Docker errors (a daemon that dies
/// mid-archive is <see cref="DockerUnavailableException"/>, not a client exception). With <c>leaveOpen</c> it also
/// keeps the client from disposing a stream the caller owns.
/// </summary>
internal sealed class TranslatingStream(Stream inner, Func<Exception, Exception?> translate, bool leaveOpen = false) : ReadOnlyStream
{
    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return inner.Read(buffer, offset, count);
        }
        catch (Exception ex) when (translate(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && translate(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
