using System.Buffers;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// A read-only stream between a tar source and <see cref="System.Formats.Tar.TarReader"/>. It reads the source in
/// large chunks, hands every chunk to an optional observer before serving it (the writer compresses it there, so
/// the file gets the source's bytes exactly, whatever the reader skips), and keeps the byte accounting the
/// validator needs: bytes read from the source (a compression bomb stops at <see cref="SourceLimit"/>), bytes the
/// reader consumed (a header is bounded by <see cref="ConsumeLimit"/>, so a huge PAX header is refused before the
/// reader buffers it), and where the last non-zero byte was (trailing data after the end-of-archive marker).
/// </summary>
internal sealed class TarFlowStream(Stream source, int chunkSize, Action<ReadOnlySpan<byte>>? onChunk = null) : ReadOnlyStream
{
    private readonly byte[] _buffer = new byte[chunkSize];
    private int _start;
    private int _end;
    private bool _sourceEnded;
    private ArrayBufferWriter<byte>? _capture;
    private long _captureFrom = long.MaxValue;

    /// <summary>Bytes read from the source so far.</summary>
    public long SourceBytes { get; private set; }

    /// <summary>Whether the source reported its end (rather than failing, as a decompressor does on a cut-off input).</summary>
    public bool SourceEnded => _sourceEnded;

    /// <summary>Bytes handed to the reader so far (its position in the tar).</summary>
    public long Consumed { get; private set; }

    /// <summary>Offset of the last non-zero byte read from the source, or -1.</summary>
    public long LastNonZeroOffset { get; private set; } = -1;

    /// <summary>Reading more than this many bytes from the source throws <see cref="SourceLimitExceeded"/>'s exception.</summary>
    public long SourceLimit { get; init; } = long.MaxValue;

    public Func<Exception>? SourceLimitExceeded { get; init; }

    /// <summary>The reader may not consume past this offset; asking for more throws <see cref="ConsumeLimitExceeded"/>'s exception.</summary>
    public long ConsumeLimit { get; set; } = long.MaxValue;

    public Func<Exception>? ConsumeLimitExceeded { get; set; }

    /// <summary>The bytes the reader consumed at and after the offset given to <see cref="CaptureFrom"/>.</summary>
    public ReadOnlySpan<byte> Captured => _capture is null ? default : _capture.WrittenSpan;

    /// <summary>Starts keeping a copy of what the reader consumes from <paramref name="offset"/> on (its headers),
    /// dropping what was kept before.</summary>
    public void CaptureFrom(long offset)
    {
        _capture ??= new ArrayBufferWriter<byte>(4096);
        _capture.ResetWrittenCount();
        _captureFrom = offset;
    }

    public override long Position
    {
        get => Consumed;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_start == _end && !_sourceEnded)
        {
            Filled(source.Read(_buffer));
        }

        return Serve(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_start == _end && !_sourceEnded)
        {
            Filled(await source.ReadAsync(_buffer, cancellationToken));
        }

        return Serve(buffer.Span);
    }

    /// <summary>Reads the source to its end (through the observer), past whatever the reader stopped at.</summary>
    public async Task DrainAsync(CancellationToken ct)
    {
        ConsumeLimit = long.MaxValue;
        Consumed += _end - _start;
        _start = _end;
        while (!_sourceEnded)
        {
            Filled(await source.ReadAsync(_buffer, ct));
            Consumed += _end;
            _start = _end;
        }
    }

    private void Filled(int read)
    {
        _start = 0;
        _end = read;
        if (read == 0)
        {
            _sourceEnded = true;
            return;
        }

        var chunk = _buffer.AsSpan(0, read);
        var lastNonZero = chunk.LastIndexOfAnyExcept((byte)0);
        if (lastNonZero >= 0)
        {
            LastNonZeroOffset = SourceBytes + lastNonZero;
        }

        SourceBytes += read;
        if (SourceBytes > SourceLimit)
        {
            throw SourceLimitExceeded?.Invoke() ?? new InvalidDataException($"The tar stream is larger than {SourceLimit} bytes.");
        }

        onChunk?.Invoke(chunk);
    }

    private int Serve(Span<byte> destination)
    {
        var allowed = ConsumeLimit - Consumed;
        if (allowed <= 0 && _start < _end)
        {
            throw ConsumeLimitExceeded?.Invoke() ?? new InvalidDataException($"The tar reader read past offset {ConsumeLimit}.");
        }

        var count = (int)Math.Min(Math.Min(destination.Length, _end - _start), allowed);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        if (_capture is not null && Consumed + count > _captureFrom)
        {
            var skip = (int)Math.Max(0, _captureFrom - Consumed);
            _capture.Write(_buffer.AsSpan(_start + skip, count - skip));
        }

        _start += count;
        Consumed += count;
        return count;
    }
}
