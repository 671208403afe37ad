namespace GrafanaPanel.Web;

/// <summary>
/// The base of the portal's read-only, forward-only streams (views over another stream that translate its errors,
/// count or check what passes): reading is the subclass's, everything else is refused as on a network stream.
/// Subclasses implement both <see cref="Stream.Read(byte[], int, int)"/> and
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>; the array overload of <c>ReadAsync</c> goes to the latter.
/// </summary>
internal abstract class ReadOnlyStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
