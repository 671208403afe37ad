using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Security.Claims;
using System.Text;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Backups.Jobs;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Backups;

/// <summary>
/// A fake of the project's own engine interface that writes real sets: a tar built with System.Formats.Tar (root
/// folder named after the volume, as the engine writes it) through the real <see cref="ArchiveWriter"/>, and a real
/// manifest. The Docker-facing engine is tested on its own.
/// </summary>
public sealed class FakeBackupRunner(BackupFolders folders) : IBackupRunner
{
    public ConcurrentQueue<BackupRequest> Backups { get; } = new();

    public ConcurrentQueue<RestoreRequest> Restores { get; } = new();

    /// <summary>When set, the next backup throws this message.</summary>
    public string? FailWith { get; set; }

    /// <summary>When set, a backup reports its first progress and then waits for this before writing.</summary>
    public TaskCompletionSource? Hold { get; set; }

    public async Task<BackupOutcome> BackupAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        Backups.Enqueue(request);
        progress?.Report(new BackupProgress("copying", request.Volumes[0], 1024, 4096));
        if (Hold is { } hold)
        {
            await hold.Task.WaitAsync(ct);
        }

        if (FailWith is { } failure)
        {
            FailWith = null;
            throw new IOException(failure);
        }

        var folder = $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{request.SetId:N}";
        var path = folders.SetPath(folder);
        Directory.CreateDirectory(path);
        var volumes = new List<ManifestVolume>();
        foreach (var volume in request.Volumes)
        {
            using var tar = new MemoryStream(BuildTar(volume, $"content of {volume}"));
            var written = await ArchiveWriter.WriteAsync(tar, Path.Combine(path, ArchiveCompressionStreams.ArchiveFileName(volume, request.Compression)),
                new ArchiveWriteOptions { Compression = request.Compression }, ct);
            volumes.Add(ManifestVolume.FromArchive(volume, written, ["grafana/grafana:11"], ["grafana"]));
        }

        var manifest = new BackupManifest(request.SetId, DateTimeOffset.UtcNow, request.Trigger, request.Mode, request.Compression, volumes);
        await manifest.WriteAsync(path, ct);
        return new BackupOutcome(request.SetId, path, manifest, TimeSpan.FromMilliseconds(1500));
    }

    public Task<RestoreOutcome> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        Restores.Enqueue(request);
        return Task.FromResult(new RestoreOutcome(request.Volumes ?? [], null, TimeSpan.FromSeconds(1)));
    }

    public async Task<VerifyOutcome> VerifyAsync(string folder, bool testRestore, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        try
        {
            var manifest = await BackupManifest.ReadAsync(folder, ct);
            foreach (var volume in manifest.Volumes)
            {
                await ArchiveVerifier.ValidateAsync(folder, manifest, volume, ct);
            }

            return new VerifyOutcome(true, $"{manifest.Volumes.Count} archive(s) verified", TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (ex is ArchiveRejectedException or InvalidManifestException)
        {
            return new VerifyOutcome(false, ex.Message, TimeSpan.FromSeconds(1));
        }
    }

    public static byte[] BuildTar(string root, string content)
    {
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, root + "/") { Mode = (UnixFileMode)0x1ED });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, root + "/hello.txt")
            {
                Mode = (UnixFileMode)0x1A4,
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            });
        }

        return stream.ToArray();
    }
}

/// <summary>The real portal on a fresh database with a backup directory of its own, and ways to act as a user and read the catalog.</summary>
public abstract class BackupPortalFactory : PanelAppFactory
{
    protected BackupPortalFactory(string? backupDirectory)
    {
        BackupDirectory = backupDirectory ?? Directory.CreateTempSubdirectory("gp-backups-").FullName;
        With("Backups:Directory", BackupDirectory);
    }

    public string BackupDirectory { get; }

    /// <summary>The backup service as a circuit of <paramref name="user"/> would call it, in its own scope.</summary>
    public (BackupService Service, IServiceScope Scope) ServiceFor(ClaimsPrincipal user)
    {
        var scope = Services.CreateScope();
        var service = ActivatorUtilities.CreateInstance<BackupService>(scope.ServiceProvider, TestAccounts.GateFor(scope.ServiceProvider, user));
        return (service, scope);
    }

    public async Task<ClaimsPrincipal> UserAsync(string role, string? email = null)
    {
        var user = await TestAccounts.CreateAsync(Services, email ?? $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@panel.test", role);
        return await TestAccounts.PrincipalAsync(Services, user);
    }

    public async Task<T> DbAsync<T>(Func<PanelDbContext, Task<T>> query)
    {
        using var scope = Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<PanelDbContext>());
    }

    /// <summary>Stops the app, drops its database and removes its backup directory.</summary>
    public async Task DisposeAllAsync()
    {
        await ((IAsyncLifetime)this).DisposeAsync();
        try
        {
            Directory.Delete(BackupDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The real portal on a fresh database, with the fake engine, its own backup directory, and no Docker daemon.</summary>
public sealed class BackupAppFactory : BackupPortalFactory
{
    public const string GrafanaVolume = "grafana-training_grafana_data";
    public const string PrometheusVolume = "grafana-training_prometheus_data";
    public const string PortalVolume = "grafana-training_panel_db";

    /// <param name="backupDirectory">The backup directory (e.g. a small tmpfs); default a new temporary folder.</param>
    public BackupAppFactory(string? backupDirectory = null)
        : base(backupDirectory)
    {
        // No daemon: the stack snapshot holds exactly the containers the test puts there.
        With("Docker:Endpoint", "unix:///tmp/grafanapanel-no-docker.sock");
        With("Backups:ImportMaxBytes", "200000");
    }

    public FakeBackupRunner Runner => Services.GetRequiredService<FakeBackupRunner>();

    /// <summary>Database ready, start-up recovery done, and the stack holding a lab volume or two and the portal's own.</summary>
    public async Task ReadyAsync()
    {
        await WaitUntilDatabaseReadyAsync();
        await Services.GetRequiredService<BackupJobsStartup>().Done.WaitAsync(TimeSpan.FromSeconds(60));
        Services.GetRequiredService<StackSnapshot>().ReplaceContainers(
        [
            Container("grafana", GrafanaVolume),
            Container("prometheus", PrometheusVolume),
            Container("portal-db", PortalVolume, portal: true),
        ]);
    }

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<FakeBackupRunner>();
            services.AddSingleton<IBackupRunner>(sp => sp.GetRequiredService<FakeBackupRunner>());
        });
    }

    private static ContainerRecord Container(string service, string volume, bool portal = false)
    {
        var labels = new Dictionary<string, string>
        {
            [ContainerRecord.ProjectLabel] = "grafana-training",
            [ContainerRecord.ServiceLabel] = service,
        };
        if (portal)
        {
            labels[ContainerRecord.PortalRoleLabel] = "database";
        }

        return new ContainerRecord($"{service}-id", $"grafana-training-{service}-1", $"local/{service}:1", ContainerState.Running, "Up",
            null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, 0, 0, [], new Dictionary<string, string>(),
            [new MountRecord("volume", volume, $"/var/lib/docker/volumes/{volume}/_data", "/data", false)], labels);
    }

}

/// <summary>A test class with its own portal (fresh database, backup directory, fake engine), ready before each test.</summary>
public abstract class BackupAppTests : IAsyncLifetime
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    protected BackupAppFactory App { get; } = new();

    public async ValueTask InitializeAsync()
    {
        await App.InitializeAsync();
        await App.ReadyAsync();
    }

    public ValueTask DisposeAsync() => new(App.DisposeAllAsync());
}
