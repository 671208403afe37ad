using System.Diagnostics;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// A second, private dockerd that a test may stop and start: the shared daemon runs other people's containers, so
/// it is never restarted by a test. Its files live under one temporary directory (socket, data, exec root, its own
/// containerd in its own containerd namespace), and it runs in a network namespace of its own: dockerd manages the
/// interface named docker0 (with <c>--bridge none</c> it even deletes it), and in the host's namespace that would
/// be the shared daemon's bridge. Needs root, as dockerd does.
/// </summary>
public sealed class IsolatedDockerd : IAsyncDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("gpd-");
    private readonly bool _hostHadDocker0 = HostHasDocker0();
    private Process? _process;

    public string Endpoint => $"unix://{Path.Combine(_root.FullName, "docker.sock")}";

    public static async Task<IsolatedDockerd> StartAsync()
    {
        var daemon = new IsolatedDockerd();
        await File.WriteAllTextAsync(Path.Combine(daemon._root.FullName, "daemon.json"), "{}");
        await daemon.StartAgainAsync();
        return daemon;
    }

    /// <summary>Starts the daemon (again) on the same directories and waits until it answers.</summary>
    public async Task StartAgainAsync()
    {
        var dir = _root.FullName;
        var start = new ProcessStartInfo("sh") { UseShellExecute = false };
        // exec (and unshare without --fork) keep the process id dockerd's own, so stopping it signals exactly this daemon.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(
            $"exec unshare --net -- dockerd --host {Endpoint} --data-root {dir}/data --exec-root {dir}/exec " +
            $"--pidfile {dir}/docker.pid --config-file {dir}/daemon.json --iptables=false --ip-masq=false --ip-forward=false " +
            $"--containerd-namespace gp-test --containerd-plugins-namespace gp-test-plugins >>{dir}/dockerd.log 2>&1");
        _process = Process.Start(start) ?? throw new InvalidOperationException("dockerd could not be started.");

        await Eventually.ReturnsAsync(
            async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException(
                        $"dockerd exited with {_process.ExitCode}: {await File.ReadAllTextAsync(Path.Combine(dir, "dockerd.log"))}");
                }

                try
                {
                    return await DockerCli.RunAsync(["version", "--format", "{{.Server.Version}}"], Endpoint);
                }
                catch (InvalidOperationException)
                {
                    return "";
                }
            },
            version => version.Length > 0, TimeSpan.FromSeconds(60), "the isolated dockerd to answer");
    }

    /// <summary>Stops the daemon as a service manager would (SIGTERM) and waits until it has exited.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        await UnmountLeftoversAsync();
        _root.Delete(recursive: true);
        if (_hostHadDocker0 && !HostHasDocker0())
        {
            throw new InvalidOperationException(
                "The host's docker0 bridge disappeared while the isolated dockerd ran; the shared daemon needs it back.");
        }
    }

    /// <summary>
    /// A daemon that had to force its shutdown (a paused container outlasts its shutdown timeout: a frozen process
    /// gets no signal) leaves the bind mount it puts on its data root; each start adds one. Only mounts under this
    /// daemon's own directory are touched, innermost first.
    /// </summary>
    private async Task UnmountLeftoversAsync()
    {
        var prefix = _root.FullName + "/";
        var mounts = File.ReadAllLines("/proc/self/mountinfo").Select(line => line.Split(' ')[4])
            .Where(point => point.StartsWith(prefix, StringComparison.Ordinal)).OrderByDescending(point => point.Length).ToList();
        foreach (var point in mounts)
        {
            using var umount = Process.Start("umount", [point]);
            await umount.WaitForExitAsync();
        }
    }

    private static bool HostHasDocker0() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().Any(i => i.Name == "docker0");
}
