using System.Diagnostics;
using GrafanaPanel.Web.Docker;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// The docker CLI, used by tests to arrange and check containers independently of the code under test.
/// </summary>
public static class DockerCli
{
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    /// <summary>Runs <c>docker ARGS</c> and returns its trimmed stdout; a non-zero exit fails with docker's stderr.</summary>
    public static async Task<string> RunAsync(IEnumerable<string> args, string? host = null, CancellationToken ct = default)
    {
        var start = new ProcessStartInfo("docker")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The legacy builder: this machine has no buildx plugin, and the image is two files.
        start.Environment["DOCKER_BUILDKIT"] = "0";
        if (host is not null)
        {
            start.Environment["DOCKER_HOST"] = host;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("docker could not be started.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"docker {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}: {(await stderr).Trim()}");
        }

        return (await stdout).Trim();
    }

    public static Task<string> RunAsync(params string[] args) => RunAsync(args, host: null);

    /// <summary>An engine over the test daemon, with a short request timeout so a failure shows quickly.</summary>
    public static DockerEngine CreateEngine(string endpoint = DefaultEndpoint) =>
        new(Options.Create(new DockerOptions { Endpoint = endpoint, RequestTimeout = TimeSpan.FromSeconds(10) }));
}

/// <summary>
/// A throwaway compose project: containers and volumes labelled with a unique project name and a service, built from
/// a local busybox image, and removed together with their volumes when the test ends.
/// </summary>
public sealed class TestProject : IAsyncDisposable
{
    public const string Image = "local/gp-test-busybox:1";

    private static readonly Lazy<Task> ImageBuilt = new(BuildImageAsync);

    public string Name { get; } = "gptest" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Builds <see cref="Image"/> once per test run (FROM scratch, /bin/busybox from busybox-static).</summary>
    public static Task EnsureImageAsync() => ImageBuilt.Value;

    /// <summary><c>docker run -d</c> as service <paramref name="service"/> of this project; returns the full container id.</summary>
    public async Task<string> RunAsync(string service, IEnumerable<string> options, params string[] command)
    {
        await EnsureImageAsync();
        return await DockerCli.RunAsync(
            ["run", "-d", "--name", $"{Name}-{service}-1", .. Labels(service), .. options, Image, .. command]);
    }

    public Task<string> RunAsync(string service, params string[] command) => RunAsync(service, [], command);

    /// <summary>Runs a command to its end in a throwaway container of this project (<c>docker run --rm</c>).</summary>
    public async Task RunToEndAsync(string service, IEnumerable<string> options, params string[] command)
    {
        await EnsureImageAsync();
        await DockerCli.RunAsync(["run", "--rm", .. Labels(service), .. options, Image, .. command]);
    }

    /// <summary>A named volume <c>PROJECT_KEY</c> labelled as compose labels its volumes.</summary>
    public Task<string> CreateVolumeAsync(string key) =>
        DockerCli.RunAsync("volume", "create", "--label", $"{ContainerRecord.ProjectLabel}={Name}",
            "--label", $"{ContainerRecord.VolumeLabel}={key}", $"{Name}_{key}");

    /// <summary>As <see cref="CreateVolumeAsync(string)"/>, with more labels and the local driver's options (<c>--opt</c>).</summary>
    public Task<string> CreateVolumeAsync(string key, IEnumerable<(string Key, string Value)>? labels = null, IEnumerable<string>? driverOptions = null) =>
        DockerCli.RunAsync(["volume", "create", "--label", $"{ContainerRecord.ProjectLabel}={Name}", "--label", $"{ContainerRecord.VolumeLabel}={key}",
            .. (labels ?? []).SelectMany(l => new[] { "--label", $"{l.Key}={l.Value}" }),
            .. (driverOptions ?? []).SelectMany(o => new[] { "--opt", o }), $"{Name}_{key}"]);

    /// <summary>
    /// A small stack of sleeping containers: postgres, grafana (depends on postgres) and, unless left out, the portal's
    /// own panel. sleep as PID 1 ignores SIGTERM, so each stop waits out the grace period the portal gives.
    /// </summary>
    public async Task RunSmallStackAsync(bool withPortal = true)
    {
        await RunAsync("postgres", "sleep", "3600");
        await RunAsync("grafana", ["--label", $"{ContainerRecord.DependsOnLabel}=postgres:service_healthy:false"], "sleep", "3600");
        if (withPortal)
        {
            await RunAsync("panel", ["--label", $"{ContainerRecord.PortalRoleLabel}=portal"], "sleep", "3600");
        }
    }

    /// <summary>The full id of the project's container for compose service <paramref name="service"/>.</summary>
    public Task<string> IdOfAsync(string service) =>
        DockerCli.RunAsync("ps", "-aq", "--no-trunc", "--filter", $"label={ContainerRecord.ProjectLabel}={Name}",
            "--filter", $"label={ContainerRecord.ServiceLabel}={service}");

    /// <summary>Polls <c>docker inspect</c> until the container's state is <paramref name="status"/>.</summary>
    public static Task WaitForStatusAsync(string id, string status) =>
        Eventually.ReturnsAsync(() => DockerCli.RunAsync("inspect", "-f", "{{.State.Status}}", id), s => s == status,
            TimeSpan.FromSeconds(60), $"container {id} to be {status}");

    public async ValueTask DisposeAsync()
    {
        var filter = $"label={ContainerRecord.ProjectLabel}={Name}";
        var containers = await DockerCli.RunAsync("ps", "-aq", "--filter", filter);
        if (containers.Length > 0)
        {
            await DockerCli.RunAsync(["rm", "-f", "-v", .. containers.Split('\n', StringSplitOptions.RemoveEmptyEntries)]);
        }

        var volumes = await DockerCli.RunAsync("volume", "ls", "-q", "--filter", filter);
        if (volumes.Length > 0)
        {
            await DockerCli.RunAsync(["volume", "rm", "-f", .. volumes.Split('\n', StringSplitOptions.RemoveEmptyEntries)]);
        }
    }

    private string[] Labels(string service) =>
        ["--label", $"{ContainerRecord.ProjectLabel}={Name}", "--label", $"{ContainerRecord.ServiceLabel}={service}"];

    private static Task BuildImageAsync() => BuildImageAsync(host: null);

    /// <summary>Builds <see cref="Image"/> on the daemon at <paramref name="host"/> (another daemon than the shared one).</summary>
    public static async Task BuildImageAsync(string? host)
    {
        var context = Directory.CreateTempSubdirectory("gp-test-busybox-");
        try
        {
            if (!File.Exists("/bin/busybox"))
            {
                throw new InvalidOperationException("/bin/busybox is missing: apt-get install busybox-static.");
            }

            File.Copy("/bin/busybox", Path.Combine(context.FullName, "busybox"));
            await File.WriteAllTextAsync(Path.Combine(context.FullName, "Dockerfile"), """
                FROM scratch
                COPY busybox /bin/busybox
                RUN ["/bin/busybox", "--install", "-s", "/bin"]
                RUN ["/bin/busybox", "mkdir", "-p", "/tmp"]
                """);
            await DockerCli.RunAsync(["build", "-q", "-t", Image, context.FullName], host);
        }
        finally
        {
            context.Delete(recursive: true);
        }
    }
}
