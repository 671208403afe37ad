using System.Text;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Tests.Docker;

public sealed class LogLineDecoderTests
{
    private readonly LogLineDecoder _decoder = new();

    [Fact]
    public void A_line_split_across_chunks_comes_out_once_when_its_newline_arrives()
    {
        Assert.Empty(Push(LogStream.Stdout, "2024-05-01T10:00:00.123456789Z hel"));
        var lines = Push(LogStream.Stdout, "lo\n2024-05-01T10:00:01Z next\n");

        Assert.Equal(["hello", "next"], lines.Select(l => l.Text));
        // The daemon's nanoseconds, rounded to .NET's 100 ns ticks.
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1234568), lines[0].Timestamp);
    }

    [Fact]
    public void Stdout_and_stderr_keep_their_own_unfinished_lines()
    {
        Assert.Empty(Push(LogStream.Stdout, "2024-05-01T10:00:00Z out-"));
        var error = Assert.Single(Push(LogStream.Stderr, "2024-05-01T10:00:01Z err\n"));
        var output = Assert.Single(Push(LogStream.Stdout, "line\n"));

        Assert.Equal((LogStream.Stderr, "err"), (error.Stream, error.Text));
        Assert.Equal((LogStream.Stdout, "out-line"), (output.Stream, output.Text));
    }

    [Fact]
    public void A_multibyte_character_split_between_chunks_survives_and_tty_carriage_returns_go()
    {
        var bytes = Encoding.UTF8.GetBytes("2024-05-01T10:00:00Z grün\r\n");
        var cut = Array.IndexOf(bytes, (byte)0xC3) + 1;

        Assert.Empty(_decoder.Push(LogStream.Stdout, bytes[..cut], cut));
        var line = Assert.Single(_decoder.Push(LogStream.Stdout, bytes[cut..], bytes.Length - cut));

        Assert.Equal("grün", line.Text);
    }

    [Fact]
    public void A_last_line_without_newline_comes_out_on_flush()
    {
        Assert.Empty(Push(LogStream.Stderr, "2024-05-01T10:00:00Z bye"));

        var line = Assert.Single(_decoder.Flush());

        Assert.Equal((LogStream.Stderr, "bye"), (line.Stream, line.Text));
    }

    [Fact]
    public void A_line_that_never_ends_is_cut_so_memory_stays_bounded()
    {
        var lines = Push(LogStream.Stdout, "2024-05-01T10:00:00Z " + new string('x', LogLineDecoder.MaxLineBytes * 2));

        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l.Text) <= LogLineDecoder.MaxLineBytes));
        Assert.All(lines, l => Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), l.Timestamp));
    }

    private List<LogLine> Push(LogStream stream, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return _decoder.Push(stream, bytes, bytes.Length);
    }
}
