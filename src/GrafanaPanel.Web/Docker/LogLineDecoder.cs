using System.Globalization;
using System.Text;

namespace GrafanaPanel.Web.Docker;

/// <summary>
/// Cuts the daemon's log output (<c>timestamps=true</c>) into <see cref="LogLine"/>s. Chunks can end in the middle of a
/// line, and stdout and stderr interleave, so each stream keeps its own unfinished line until its newline arrives.
/// </summary>
internal sealed class LogLineDecoder
{
    /// <summary>A line that never ends (a progress bar redrawn with \r) is cut here so one viewer's memory stays bounded.</summary>
    internal const int MaxLineBytes = 64 * 1024;

    private readonly MemoryStream _stdout = new();
    private readonly MemoryStream _stderr = new();
    private DateTimeOffset _lastTimestamp = DateTimeOffset.UnixEpoch;

    public List<LogLine> Push(LogStream stream, byte[] buffer, int count)
    {
        var pending = stream == LogStream.Stdout ? _stdout : _stderr;
        var lines = new List<LogLine>();
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            if (buffer[i] == (byte)'\n' || pending.Length + (i - start) >= MaxLineBytes)
            {
                var isNewline = buffer[i] == (byte)'\n';
                pending.Write(buffer, start, i - start);
                lines.Add(TakeLine(stream, pending));
                start = isNewline ? i + 1 : i;
            }
        }

        pending.Write(buffer, start, count - start);
        return lines;
    }

    /// <summary>What is left when the stream ends: a last line without a newline.</summary>
    public List<LogLine> Flush()
    {
        var lines = new List<LogLine>();
        if (_stdout.Length > 0)
        {
            lines.Add(TakeLine(LogStream.Stdout, _stdout));
        }

        if (_stderr.Length > 0)
        {
            lines.Add(TakeLine(LogStream.Stderr, _stderr));
        }

        return lines;
    }

    private LogLine TakeLine(LogStream stream, MemoryStream pending)
    {
        // Decoding whole lines, never chunks, keeps a multi-byte character that straddles two chunks intact.
        var text = Encoding.UTF8.GetString(pending.GetBuffer(), 0, (int)pending.Length).TrimEnd('\r');
        pending.SetLength(0);

        // "2024-05-01T10:00:00.123456789Z message"; a cut-off continuation has no timestamp of its own.
        var space = text.IndexOf(' ');
        if (space > 0 && DateTimeOffset.TryParse(text.AsSpan(0, space), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var timestamp))
        {
            _lastTimestamp = timestamp;
            return new LogLine(timestamp, stream, text[(space + 1)..]);
        }

        return new LogLine(_lastTimestamp, stream, text);
    }
}
