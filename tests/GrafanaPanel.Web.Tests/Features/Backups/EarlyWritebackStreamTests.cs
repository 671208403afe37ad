using System.Security.Cryptography;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class EarlyWritebackStreamTests
{
    [Fact]
    public async Task Writes_pass_through_unchanged_and_Linux_is_asked_to_write_back_every_16_MiB()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("big");
        var content = RandomNumberGenerator.GetBytes((int)(2.5 * EarlyWritebackStream.KickEvery));
        int kicks;
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0))
        await using (var writeback = new EarlyWritebackStream(file))
        {
            // Mixed write sizes, synchronous and asynchronous, as the compressors hand them over.
            var offset = 0;
            var size = 1;
            for (var i = 0; offset < content.Length; i++)
            {
                var count = Math.Min(size, content.Length - offset);
                if (i % 2 == 0)
                {
                    await writeback.WriteAsync(content.AsMemory(offset, count));
                }
                else
                {
                    writeback.Write(content, offset, count);
                }

                offset += count;
                size = size * 3 % 1_000_003;
            }

            kicks = writeback.Kicks;
            Assert.Equal(content.Length, writeback.Position);
        }

        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(path)));
        Assert.Equal(OperatingSystem.IsLinux() ? 2 : 0, kicks);
    }

    [Fact]
    public async Task An_atomic_file_larger_than_the_writeback_step_is_written_whole()
    {
        using var folder = new TempFolder();
        var content = RandomNumberGenerator.GetBytes((int)EarlyWritebackStream.KickEvery + 12345);

        await AtomicFile.WriteAsync(folder.Combine("archive"), async (stream, ct) =>
        {
            await stream.WriteAsync(content, ct);
            return 0;
        }, CancellationToken.None);

        Assert.Equal(content, await File.ReadAllBytesAsync(folder.Combine("archive")));
        Assert.Equal(["archive"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }
}
