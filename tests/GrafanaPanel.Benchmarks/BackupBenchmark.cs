using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Backups.Archive;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Benchmarks;

/// <summary>
/// Issue 5's benchmark on the real engine: the portal's <see cref="BackupRunner"/> with the real
/// <see cref="DockerEngine"/> on the mixed volume of docs/benchmarks.md, next to the raw archive stream
/// (<c>GET /containers/{id}/archive</c>), the busybox <c>tar czf</c> recipe, <c>gzip -6</c>'s size, and a raw
/// archive upload (<c>PUT /containers/{id}/archive</c>). Prints medians, ratios and PASS/MISS against the goals;
/// a missed goal is a result, not an error.
/// </summary>
public static class BackupBenchmark
{
    private const string Project = "gp-bench-backup";
    private const string Volume = Project + "_data";
    private const string UploadVolume = Project + "_upload";
    private static int _uploads;
    private const string Image = "local/gp-bench-busybox:1";
    private const string BenchLabel = "grafana-panel.bench";
    private const string BenchLabelValue = "backup";
    private const int CopyChunk = 1 << 20;

    private const double BackupGoal = 1.5;
    private const double RestoreGoal = 1.2;
    private const double RestoreAfterSafetyCopyGoal = 1.6;

    /// <summary>
    /// The mixed volume, written inside a busybox container: CHUNKS files of 4 MiB from /dev/urandom
    /// (incompressible), 8 Grafana-style logfmt logs of LOGBYTES each (awk, fixed seed), FILES small dashboard JSON
    /// files in folders of 500. At scale 1: 400 MiB + 400 MiB + 20,000 files, about 880 MB of tar.
    /// </summary>
    private const string GenerateScript = """
        set -e
        cd /data
        mkdir -p chunks logs json
        i=0
        while [ $i -lt $CHUNKS ]; do
          head -c 4194304 /dev/urandom > chunks/chunk-$(printf %03d $i).bin
          i=$((i+1))
        done
        awk -v logs=8 -v logbytes=$LOGBYTES -v files=$FILES 'BEGIN {
          srand(42)
          split("/api/dashboards/uid/ /api/datasources/proxy/ /api/search /api/health /login /api/annotations", paths, " ")
          t = 1767225600; ms = 0
          for (f = 0; f < logs; f++) {
            name = sprintf("logs/grafana-%d.log", f); size = 0
            while (size < logbytes) {
              ms += int(rand() * 400) + 1
              if (ms >= 1000) { t += int(ms / 1000); ms = ms % 1000 }
              line = sprintf("logger=context userId=%d orgId=1 t=%s.%03dZ level=%s msg=\"Request Completed\" method=GET path=%s%x status=%d remote_addr=172.20.0.%d duration=%.3fms size=%d traceID=%04x%04x%04x%04x",
                int(rand() * 40), strftime("%Y-%m-%dT%H:%M:%S", t), ms, rand() < 0.1 ? "error" : "info", paths[int(rand() * 6) + 1], int(rand() * 1000),
                rand() < 0.125 ? 500 : 200, int(rand() * 28) + 2, rand() * 900, int(rand() * 90000),
                int(rand() * 65536), int(rand() * 65536), int(rand() * 65536), int(rand() * 65536))
              print line > name
              size += length(line) + 1
            }
            close(name)
          }
          for (i = 0; i < files; i++) {
            dir = sprintf("json/%03d", int(i / 500))
            if (i % 500 == 0) system("mkdir -p " dir)
            name = sprintf("%s/dash-%05d.json", dir, i)
            printf "{\n  \"uid\": \"%04x%04x%04x\",\n  \"title\": \"Dashboard %d\",\n  \"version\": %d,\n  \"panels\": [\n", int(rand() * 65536), int(rand() * 65536), int(rand() * 65536), i, int(rand() * 50) > name
            n = int(rand() * 5) + 1
            for (j = 0; j < n; j++) {
              printf "    { \"id\": %d, \"type\": \"timeseries\", \"title\": \"Panel %d\", \"targets\": [{ \"expr\": \"rate(http_requests_total{job=\\\"svc%d\\\"}[5m])\" }], \"gridPos\": { \"x\": %d, \"y\": %d, \"w\": 12, \"h\": 8 } }%s\n", j, j, int(rand() * 9), int(rand() * 24), int(rand() * 40), j < n - 1 ? "," : "" > name
            }
            printf "  ]\n}\n" > name
            close(name)
          }
        }'
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(Value(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        var scale = double.Parse(Value(args, "--scale") ?? "1", CultureInfo.InvariantCulture);
        if (runs < 1 || scale is <= 0 or > 4)
        {
            Console.Error.WriteLine("usage: GrafanaPanel.Benchmarks backup [--runs N (>= 1)] [--scale X (0 < X <= 4)]");
            return 2;
        }

        using var cts = new CancellationTokenSource();
        // Ctrl-C or a TERM cancels the run; the finally blocks below still remove what it created.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cts.Cancel(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
        var ct = cts.Token;

        if (await LeftoversAsync() is { } leftovers)
        {
            Console.Error.WriteLine(leftovers);
            return 1;
        }

        var work = Directory.CreateTempSubdirectory("gp-bench-backup-").FullName;
        using var engine = new DockerEngine(Options.Create(new DockerOptions { RequestTimeout = TimeSpan.FromSeconds(30) }));
        try
        {
            CheckFreeSpace(work, scale, runs);
            await Measure.RunAsync("docker", "image", "inspect", Image);
            var volume = await GenerateVolumeAsync(scale, ct);
            await RunBenchmarkAsync(engine, work, volume, runs, ct);
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine("interrupted");
            return 130;
        }
        finally
        {
            Console.WriteLine("removing the benchmark's containers, volumes and files…");
            await RemoveCreatedAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task RunBenchmarkAsync(DockerEngine engine, string work, GeneratedVolume volume, int runs, CancellationToken ct)
    {
        var loadBefore = LoadAverage();
        // A service that uses the volume, as in a lab: the portal's backup pauses it, its restore stops and starts it.
        // KILL as stop signal: sleep as PID 1 ignores TERM and would wait out the 30 s grace on every restore.
        await Measure.RunAsync("docker", ["run", "-d", "--name", $"{Project}-app-1", .. Labels(), "--label", $"{ContainerRecord.ServiceLabel}=app",
            "--stop-signal", "KILL", "-v", $"{Volume}:/data", Image, "sleep", "86400"]);
        var snapshot = new StackSnapshot(Options.Create(new StackOptions { ProjectName = Project }), TimeProvider.System);
        snapshot.ReplaceContainers(await engine.ListContainersAsync(Project, ct));
        var runner = new BackupRunner(engine, snapshot, new StackLock(),
            Options.Create(new BackupOptions { Directory = Path.Combine(work, "backups"), HelperImage = Image, FreeSpaceMarginBytes = 0 }),
            Options.Create(new StackOptions { ProjectName = Project }), TimeProvider.System, NullLogger<BackupRunner>.Instance);
        var tarPath = Path.Combine(work, "raw.tar");

        var (backupRows, set, tarBytes) = await BackupRoundsAsync(engine, runner, tarPath, runs, ct);
        var archived = set.Manifest.Volumes[0];
        Console.WriteLine("gzip -6 of the raw tar (size reference, one run)…");
        var gzip = new Row("gzip -6 of the raw tar file (GNU gzip)", Compressed: true);
        gzip.Add(await TimeAsync(async () => long.Parse((await Measure.RunAsync("sh", "-c", $"gzip -6 -c < '{tarPath}' | wc -c")).Trim(), CultureInfo.InvariantCulture)));
        var restoreRows = await RestoreRoundsAsync(engine, runner, tarPath, set, runs, ct);

        var docker = (await engine.GetInfoAsync(ct)).Version;
        Console.WriteLine();
        Console.WriteLine($"mixed volume: {tarBytes / 1e6:F1} MB of tar, {archived.EntryCount:N0} entries ({volume.Chunks} chunks of 4 MiB from " +
            $"/dev/urandom, 8 logs of {volume.LogBytes / 1048576.0:0.#} MiB, {volume.Files:N0} JSON files), generated in {volume.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"{DateTime.Now:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, Docker {docker}, load average {loadBefore} before, " +
            $"{LoadAverage()} after; median of {runs} run(s) after one warm-up (gzip -6: one run); every timed step starts after a sync; " +
            "x base = time / the first row's");
        Table("backup", [.. backupRows, gzip], tarBytes, gzip.Bytes);
        Table("restore", restoreRows, tarBytes, gzip.Bytes);

        var (rawStream, portalBackup, busybox) = (backupRows[0], backupRows[2], backupRows[3]);
        var (rawUpload, portalRestore) = (restoreRows[0], restoreRows[1]);
        var backupRatio = Row.PairedRatio(portalBackup, rawStream);
        var sizeRatio = (double)archived.CompressedBytes / gzip.Bytes;
        var restoreRatio = Row.PairedRatio(portalRestore, rawUpload);
        var afterCopy = restoreRows.Single(r => r.Name == AfterSafetyCopyRow);
        var afterCopyRatio = Row.PairedRatio(afterCopy, rawUpload);
        Console.WriteLine();
        Console.WriteLine("ratios: the median of the rounds' own ratios (each round's time / the same round's baseline), which other load on the");
        Console.WriteLine("machine affects less than the ratio of the medians (shown after it)");
        Console.WriteLine($"goal: portal backup <= {BackupGoal}x the raw stream:   {backupRatio,6:F2}x  {Verdict(backupRatio <= BackupGoal)}" +
            $"  (ratio of medians {portalBackup.Median / rawStream.Median:F2}x)");
        Console.WriteLine($"goal: portal archive no larger than gzip -6's:  {sizeRatio,6:F4}x  {Verdict(sizeRatio <= 1)}" +
            $"  ({archived.CompressedBytes:N0} vs {gzip.Bytes:N0} bytes)");
        Console.WriteLine($"goal: portal restore <= {RestoreGoal}x the raw upload:   {restoreRatio,6:F2}x  {Verdict(restoreRatio <= RestoreGoal)}" +
            $"  (ratio of medians {portalRestore.Median / rawUpload.Median:F2}x)");
        Console.WriteLine($"goal: with a safety backup, all after the copy <= {RestoreAfterSafetyCopyGoal}x the raw upload: {afterCopyRatio,6:F2}x  " +
            $"{Verdict(afterCopyRatio <= RestoreAfterSafetyCopyGoal)}  (ratio of medians {afterCopy.Median / rawUpload.Median:F2}x)");
        Console.WriteLine($"reference: busybox tar czf / raw stream:        {Row.PairedRatio(busybox, rawStream),6:F2}x  (docs/benchmarks.md: about 16x expected)");
    }

    /// <summary>
    /// One warm-up of each (JIT, page cache), then the rows round-robin so that drift hits every row alike. Returns
    /// the rows, the last set (kept for the restores; earlier ones are deleted) and the raw tar's size. The raw tar
    /// is left at <paramref name="tarPath"/> for gzip -6 and the raw upload.
    /// </summary>
    private static async Task<(Row[] Rows, BackupOutcome Set, long TarBytes)> BackupRoundsAsync(
        DockerEngine engine, BackupRunner runner, string tarPath, int runs, CancellationToken ct)
    {
        // Created once and never started, as the portal's own helpers are; only the streaming is timed.
        var helper = await engine.CreateHelperContainerAsync(
            new HelperContainerSpec(Project, Image, [new HelperVolumeMount(Volume, "/v/" + Volume, ReadOnly: true)], ["true"]), ct);
        var rawStream = new Row("raw stream: GET archive → Stream.Null");
        var rawFile = new Row("raw stream → file (fsync)");
        var portalBackup = new Row("portal backup (zstd, pause mode)", Compressed: true);
        var busybox = new Row("busybox tar czf (docker run --rm)", Compressed: true);
        Console.WriteLine("warming up (raw stream, raw stream to a file, portal backup)…");
        var tarBytes = await StreamRawAsync(engine, helper, null, ct);
        await StreamRawAsync(engine, helper, tarPath, ct);
        var set = await BackupOnceAsync(runner, ct);
        for (var run = 1; run <= runs; run++)
        {
            Console.WriteLine($"backup round {run}/{runs}…");
            Directory.Delete(set.Folder, recursive: true);
            rawStream.Add(await TimeAsync(() => StreamRawAsync(engine, helper, null, ct)));
            rawFile.Add(await TimeAsync(() => StreamRawAsync(engine, helper, tarPath, ct)));
            portalBackup.Add(await TimeAsync(async () =>
            {
                set = await BackupOnceAsync(runner, ct);
                return set.Manifest.Volumes[0].CompressedBytes;
            }));
            busybox.Add(await TimeAsync(() => RunCountingAsync("docker", ["run", "--rm", "--name", $"{Project}-tar-{run}", .. Labels(),
                "-v", $"{Volume}:/data", Image, "tar", "czf", "-", "-C", "/data", "."], ct)));
        }

        if (set.Manifest.Volumes[0].TarBytes != tarBytes)
        {
            throw new InvalidOperationException($"The portal archived {set.Manifest.Volumes[0].TarBytes} tar bytes but the raw stream had {tarBytes}.");
        }

        await engine.RemoveContainerAsync(helper, CancellationToken.None);
        return ([rawStream, rawFile, portalBackup, busybox], set, tarBytes);
    }

    /// <summary>
    /// The raw upload of the uncompressed tar file into an empty volume, next to the portal's restore of
    /// <paramref name="set"/> (hash, stop, move aside, upload with the tar walk, delete and list, start) into the original
    /// volume, with the restore's steps as it reports them and a verification of the archive alone.
    /// </summary>
    private static async Task<Row[]> RestoreRoundsAsync(DockerEngine engine, BackupRunner runner, string tarPath, BackupOutcome set, int runs, CancellationToken ct)
    {
        var archived = set.Manifest.Volumes[0];
        var rawUpload = new Row("raw upload: PUT archive of the tar file");
        var portalRestore = new Row("portal restore (no safety backup)");
        var verifyAlone = new Row("  verify the archive alone (hash + tar walk)");
        var withSafety = new Row("portal restore with a safety backup");
        var afterCopy = new Row(AfterSafetyCopyRow);
        var steps = new Dictionary<string, Row>(StringComparer.Ordinal);
        var safetySteps = new Dictionary<string, Row>(StringComparer.Ordinal);
        var recentDeletes = DeletedInodesLinger(out var why);
        Console.WriteLine(why);
        Console.WriteLine("warming up (raw upload, portal restore)…");
        await UploadRawAsync(engine, tarPath, archived.EntryCount, ct);
        await runner.RestoreAsync(new RestoreRequest(set.Folder, SafetyBackup: false), null, ct);
        var restoreEnded = Stopwatch.StartNew();
        for (var run = 1; run <= runs; run++)
        {
            Console.WriteLine($"restore round {run}/{runs}…");
            await WaitForDeletedInodesAsync(recentDeletes, restoreEnded, ct);

            rawUpload.Add(await UploadRawAsync(engine, tarPath, expectedEntries: null, ct));
            await SyncAsync();
            var clock = new StepClock();
            await runner.RestoreAsync(new RestoreRequest(set.Folder, SafetyBackup: false), clock, ct);
            restoreEnded.Restart();
            portalRestore.Add(clock.Elapsed);
            foreach (var (step, time) in clock.Durations())
            {
                (steps.TryGetValue(step, out var row) ? row : steps[step] = new Row("  " + StepName(step))).Add(time);
            }

            verifyAlone.Add(await TimeAsync(async () => (await ArchiveVerifier.ValidateAsync(set.Folder, set.Manifest, archived, ct)).Summary.TarBytes));

            // The same restore with a safety backup of the volume first; what follows the complete copy is timed on its own.
            await WaitForDeletedInodesAsync(recentDeletes, restoreEnded, ct);
            await SyncAsync();
            var safetyClock = new StepClock();
            var outcome = await runner.RestoreAsync(new RestoreRequest(set.Folder, SafetyBackup: true), safetyClock, ct);
            restoreEnded.Restart();
            withSafety.Add(safetyClock.Elapsed);
            afterCopy.Add(safetyClock.Elapsed - (safetyClock.StartOf("Moving old content aside")
                ?? throw new InvalidOperationException("The restore with a safety backup never reported moving the old content aside.")));
            foreach (var (step, time) in safetyClock.Durations())
            {
                (safetySteps.TryGetValue(step, out var row) ? row : safetySteps[step] = new Row("  with safety: " + StepName(step)[6..])).Add(time);
            }

            foreach (var folder in Directory.EnumerateDirectories(Path.GetDirectoryName(set.Folder)!)
                         .Where(f => outcome.SafetyBackupSetId is { } id && f != set.Folder && f.EndsWith(id.ToString("N")[..8], StringComparison.Ordinal)))
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        return [rawUpload, portalRestore, .. steps.Values, verifyAlone, withSafety, .. safetySteps.Values, afterCopy];
    }

    private const string AfterSafetyCopyRow = "  after the safety copy is complete";

    /// <summary>On ext4 without a journal, waits until the last restore's deleted inodes are a minute old (see below).</summary>
    private static async Task WaitForDeletedInodesAsync(bool recentDeletes, Stopwatch restoreEnded, CancellationToken ct)
    {
        if (recentDeletes && restoreEnded.Elapsed < Ext4RecentlyDeleted)
        {
            // The last restore deleted the volume's old content (20,000 files); the next uploads would step over
            // those inodes one by one until they are a minute old. A single restore never pays for that.
            var wait = Ext4RecentlyDeleted - restoreEnded.Elapsed;
            Console.WriteLine($"  waiting {wait.TotalSeconds:F0} s until the last restore's deleted inodes are a minute old…");
            await Task.Delay(wait, ct);
        }
    }

    /// <summary>Times against the first row; MB/s of tar for whole operations; output sizes of the compressors.</summary>
    private static void Table(string title, Row[] rows, long tarBytes, long gzipBytes)
    {
        Console.WriteLine();
        Console.WriteLine($"{title,-46} {"median s",9} {"x base",7} {"tar MB/s",9} {"output bytes",15} {"x gzip -6",10}  runs (s)");
        foreach (var row in rows)
        {
            var part = row.Name.StartsWith(' ');
            var throughput = part ? "" : (tarBytes / 1e6 / row.Median.TotalSeconds).ToString("F0", CultureInfo.InvariantCulture);
            var bytes = row.Compressed ? row.Bytes.ToString("N0", CultureInfo.InvariantCulture) : "";
            var ofGzip = row.Compressed ? ((double)row.Bytes / gzipBytes).ToString("F4", CultureInfo.InvariantCulture) : "";
            Console.WriteLine($"{row.Name,-46} {row.Median.TotalSeconds,9:F2} {row.Median / rows[0].Median,7:F2} {throughput,9} {bytes,15} {ofGzip,10}  " +
                string.Join(" ", row.Times.Select(t => t.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture))));
        }
    }

    private static string Verdict(bool met) => met ? "PASS" : "MISS";

    // ext4 without a journal does not reuse an inode deleted less than a minute ago (RECENTCY_MIN in fs/ext4/ialloc.c,
    // more while its inode table block is dirty; every timed step starts after a sync): every new file steps over them.
    private static readonly TimeSpan Ext4RecentlyDeleted = TimeSpan.FromSeconds(61);

    /// <summary>
    /// Whether the file system under Docker's volumes is ext4 without a journal, read from /proc/self/mountinfo (the
    /// mount holding /var/lib/docker) and /proc/fs/jbd2 (one folder per journal). <paramref name="why"/> says what was found.
    /// </summary>
    private static bool DeletedInodesLinger(out string why)
    {
        const string root = "/var/lib/docker";
        var mount = File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(" - ", 2))
            .Where(parts => parts.Length == 2)
            .Select(parts => (Point: parts[0].Split(' ')[4], Fields: parts[1].Split(' ')))
            .Where(m => root == m.Point || root.StartsWith(m.Point.TrimEnd('/') + "/", StringComparison.Ordinal))
            .MaxBy(m => m.Point.Length);
        if (mount.Fields is not [var type, var source, ..] || type != "ext4")
        {
            why = $"{root} is on {mount.Fields?.FirstOrDefault() ?? "an unknown file system"}: the restore rounds follow each other at once.";
            return false;
        }

        var device = Path.GetFileName(source);
        if (Directory.Exists("/proc/fs/jbd2") && Directory.EnumerateDirectories("/proc/fs/jbd2", device + "-*").Any())
        {
            why = $"{root} is on ext4 with a journal ({source}): the restore rounds follow each other at once.";
            return false;
        }

        why = $"{root} is on ext4 without a journal ({source}): each restore round starts at least a minute after the last " +
            "restore deleted the old content, as inodes deleted less than a minute ago slow down creating files.";
        return true;
    }

    private static string StepName(string step) => step switch
    {
        "Verifying" => "step: check before stopping (size, SHA-256)",
        "Stopping services" => "step: stop the service",
        "Moving old content aside" => "step: move the old content aside",
        "Writing" => "step: upload (PUT of the decompressed tar)",
        "Deleting old content and checking" => "step: delete the old, list the new",
        "Starting services" => "step: start the service",
        _ => "step: " + step,
    };

    private static async Task<BackupOutcome> BackupOnceAsync(BackupRunner runner, CancellationToken ct) =>
        await runner.BackupAsync(new BackupRequest(Guid.NewGuid(), [Volume], BackupMode.Pause, ArchiveCompression.Zstd, BackupTrigger.Manual), null, ct);

    /// <summary>The daemon's tar of the volume, through the portal's engine, into nothing or into a file (fsync'd
    /// like the portal's archives). Returns the tar's size.</summary>
    private static async Task<long> StreamRawAsync(DockerEngine engine, string helper, string? path, CancellationToken ct)
    {
        await using var tar = await engine.GetArchiveAsync(helper, "/v/" + Volume, ct);
        if (path is null)
        {
            return await CopyAsync(tar, Stream.Null, ct);
        }

        await using var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, BufferSize = 0 });
        var bytes = await CopyAsync(tar, file, ct);
        file.Flush(flushToDisk: true);
        return bytes;
    }

    /// <summary>PUT of the raw tar file into an empty volume mounted where the portal's restore mounts its target;
    /// only the upload is timed. The first call checks the result holds every entry.</summary>
    private static async Task<TimeSpan> UploadRawAsync(DockerEngine engine, string tarPath, int? expectedEntries, CancellationToken ct)
    {
        // Each upload gets its own volume, and they are all removed at the end, not after each upload: on ext4
        // without a journal (this project's machine), creating files in the seconds after deleting as many makes the
        // kernel step over every recently deleted inode for each new file (recently_deleted in a profile), which
        // would slow down whatever the benchmark runs next: the portal's restore, right after this.
        var volume = $"{UploadVolume}{++_uploads}";
        await engine.CreateVolumeAsync(volume, new Dictionary<string, string>
        {
            [ContainerRecord.ProjectLabel] = Project,
            [BenchLabel] = BenchLabelValue,
        }, ct);
        string? helper = null;
        try
        {
            helper = await engine.CreateHelperContainerAsync(
                new HelperContainerSpec(Project, Image, [new HelperVolumeMount(volume, "/v/" + Volume, ReadOnly: false)], ["true"]), ct);
            await SyncAsync();
            var watch = Stopwatch.StartNew();
            await using (var tar = new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan))
            {
                await engine.PutArchiveAsync(helper, "/v", tar, ct);
            }

            var elapsed = watch.Elapsed;
            if (expectedEntries is { } expected)
            {
                await using var back = await engine.GetArchiveAsync(helper, "/v/" + Volume, ct);
                var summary = await TarSafetyValidator.ValidateAsync(back, new TarSafetyOptions { ExpectedRoot = Volume, MaxTarBytes = long.MaxValue }, ct);
                if (summary.EntryCount != expected)
                {
                    throw new InvalidOperationException($"The raw upload gave {summary.EntryCount} entries instead of {expected}.");
                }
            }

            return elapsed;
        }
        finally
        {
            if (helper is not null)
            {
                await engine.RemoveContainerAsync(helper, CancellationToken.None);
            }
        }
    }

    private static async Task<GeneratedVolume> GenerateVolumeAsync(double scale, CancellationToken ct)
    {
        var chunks = (int)Math.Round(100 * scale);
        var logBytes = (long)Math.Round(50 * 1048576 * scale);
        var files = (int)Math.Round(20_000 * scale);
        Console.WriteLine($"generating the mixed volume {Volume} (scale {scale.ToString(CultureInfo.InvariantCulture)})…");
        var watch = Stopwatch.StartNew();
        await Measure.RunAsync("docker", ["volume", "create", .. Labels(), "--label", $"{ContainerRecord.VolumeLabel}=data", Volume]);
        ct.ThrowIfCancellationRequested();
        await Measure.RunAsync("docker", ["run", "--rm", "--name", $"{Project}-generate", .. Labels(), "--network", "none",
            "-e", $"CHUNKS={chunks}", "-e", $"LOGBYTES={logBytes}", "-e", $"FILES={files}", "-v", $"{Volume}:/data", Image, "sh", "-c", GenerateScript]);
        return new GeneratedVolume(chunks, logBytes, files, watch.Elapsed);
    }

    /// <summary>Why the benchmark must not start, when containers or volumes of its project exist: another run is
    /// going on, or a killed one left them (the message says how to remove them). Null when there are none.</summary>
    private static async Task<string?> LeftoversAsync()
    {
        var (containers, volumes) = await CreatedAsync();
        return containers.Length + volumes.Length == 0
            ? null
            : $"Containers or volumes of {Project} exist already (another backup benchmark running, or one that was killed). " +
              $"Remove them with: docker rm -f -v $(docker ps -aq --filter label={ContainerRecord.ProjectLabel}={Project}); " +
              $"docker volume rm $(docker volume ls -q --filter label={ContainerRecord.ProjectLabel}={Project})";
    }

    private static async Task RemoveCreatedAsync()
    {
        var (containers, volumes) = await CreatedAsync();
        if (containers.Length > 0)
        {
            await Measure.RunAsync("docker", ["rm", "-f", "-v", .. containers]);
        }

        if (volumes.Length > 0)
        {
            await Measure.RunAsync("docker", ["volume", "rm", "-f", .. volumes]);
        }
    }

    private static async Task<(string[] Containers, string[] Volumes)> CreatedAsync()
    {
        var filter = $"label={ContainerRecord.ProjectLabel}={Project}";
        var containers = await Measure.RunAsync("docker", "ps", "-aq", "--filter", filter);
        var volumes = await Measure.RunAsync("docker", "volume", "ls", "-q", "--filter", filter);
        return (Lines(containers), Lines(volumes));
    }

    private static void CheckFreeSpace(string work, double scale, int runs)
    {
        // The volume, the raw tar, one set, the volumes of the raw uploads (one per round and the warm-up, kept until
        // the end; on the same disk here), plus room to spare.
        var needed = (long)((3.2e9 + 0.9e9 * (runs + 1)) * scale) + 1_000_000_000;
        var free = new DriveInfo(work).AvailableFreeSpace;
        if (free < needed)
        {
            throw new InvalidOperationException($"{free / 1e9:F1} GB free under {work}; the benchmark needs about {needed / 1e9:F1} GB.");
        }
    }

    /// <summary>Runs a command and counts its standard output without keeping it; returns the byte count.</summary>
    private static async Task<long> RunCountingAsync(string file, string[] args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(ct);
        var bytes = await CopyAsync(process.StandardOutput.BaseStream, Stream.Null, ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {await error}");
        }

        return bytes;
    }

    private static async Task<long> CopyAsync(Stream source, Stream target, CancellationToken ct)
    {
        var buffer = new byte[CopyChunk];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), ct);
            total += read;
        }

        return total;
    }

    private static async Task<(TimeSpan, long)> TimeAsync(Func<Task<long>> step)
    {
        await SyncAsync();
        var watch = Stopwatch.StartNew();
        var bytes = await step();
        return (watch.Elapsed, bytes);
    }

    /// <summary>Writes dirty pages out before a timed step, so that no step pays for the previous one's writes.</summary>
    private static Task SyncAsync() => Measure.RunAsync("sync");

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string[] Labels() =>
        ["--label", $"{ContainerRecord.ProjectLabel}={Project}", "--label", $"{BenchLabel}={BenchLabelValue}"];

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? Value(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private sealed record GeneratedVolume(int Chunks, long LogBytes, int Files, TimeSpan Elapsed);

    /// <summary>One measured row: its times and, for a compressor, the bytes it wrote (the last run's).</summary>
    private sealed class Row(string name, bool Compressed = false)
    {
        public string Name { get; } = name;

        public bool Compressed { get; } = Compressed;

        public List<TimeSpan> Times { get; } = [];

        public long Bytes { get; private set; }

        public TimeSpan Median => TimeSpan.FromTicks((long)MedianOf(Times.Select(t => (double)t.Ticks)));

        /// <summary>The median over rounds of <paramref name="row"/>'s time / <paramref name="baseline"/>'s time in the same round.</summary>
        public static double PairedRatio(Row row, Row baseline) => MedianOf(row.Times.Zip(baseline.Times, (a, b) => a / b));

        private static double MedianOf(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;
        }

        public void Add((TimeSpan Time, long Bytes) measured) => Add(measured.Time, measured.Bytes);

        public void Add(TimeSpan time, long bytes = 0)
        {
            Times.Add(time);
            Bytes = bytes;
        }
    }

    /// <summary>When each step of a restore began, from its progress reports (reported on the restoring thread).</summary>
    private sealed class StepClock : IProgress<BackupProgress>
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private readonly List<(string Step, TimeSpan At)> _starts = [];

        public TimeSpan Elapsed => _watch.Elapsed;

        public void Report(BackupProgress value)
        {
            if (_starts.Count == 0 || _starts[^1].Step != value.Step)
            {
                _starts.Add((value.Step, _watch.Elapsed));
            }
        }

        /// <summary>When <paramref name="step"/> was first reported, or null.</summary>
        public TimeSpan? StartOf(string step) => _starts.Where(s => s.Step == step).Select(s => (TimeSpan?)s.At).FirstOrDefault();

        /// <summary>Each step's time until the next step began (the last one until now); the time before the first
        /// report goes to the first step.</summary>
        public List<(string Step, TimeSpan Time)> Durations()
        {
            var end = _watch.Elapsed;
            return [.. _starts.Select((s, i) => (s.Step, (i + 1 < _starts.Count ? _starts[i + 1].At : end) - (i == 0 ? TimeSpan.Zero : s.At)))];
        }
    }
}
