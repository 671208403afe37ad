using System.Diagnostics;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>A small tmpfs mounted on a temporary folder (root only): a disk that fills up for real.</summary>
public sealed class TmpfsDirectory : IAsyncDisposable
{
    private TmpfsDirectory(string path) => Path = path;

    public string Path { get; }

    public long AvailableBytes => new DriveInfo(Path).AvailableFreeSpace;

    public static async Task<TmpfsDirectory> MountAsync(string size)
    {
        var path = Directory.CreateTempSubdirectory("gp-tmpfs-").FullName;
        try
        {
            await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        }
        catch
        {
            Directory.Delete(path);
            throw;
        }

        return new TmpfsDirectory(path);
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("umount", Path);
        Directory.Delete(Path);
    }

    private static async Task RunAsync(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command} could not be started.");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} exited with {process.ExitCode}: {error.Trim()}");
        }
    }
}
