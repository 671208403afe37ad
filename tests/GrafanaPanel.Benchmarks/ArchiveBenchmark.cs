using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using GrafanaPanel.Web.Features.Backups.Archive;

namespace GrafanaPanel.Benchmarks;

/// <summary>
/// A micro-benchmark of the backup archive core, without Docker: the mixed volume of docs/benchmarks.md (incompressible
/// chunks, log text, 20,000 small JSON files; scaled with --megabytes) as a tar file, then, in one run, copying it
/// raw, writing it with <see cref="ArchiveWriter"/> (zstd, gzip), <c>gzip -6</c> on the same tar for the size
/// goal, and validating the zstd archive as a restore would. Prints times, throughput and sizes.
/// </summary>
public static class ArchiveBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var megabytes = int.Parse(args.SkipWhile(a => a != "--megabytes").Skip(1).FirstOrDefault() ?? "880");
        var folder = Directory.CreateTempSubdirectory("gp-bench-archive-").FullName;
        try
        {
            var tarPath = Path.Combine(folder, "mixed.tar");
            var build = Stopwatch.StartNew();
            WriteMixedTar(tarPath, megabytes);
            var tarBytes = new FileInfo(tarPath).Length;
            Console.WriteLine($"mixed tar: {tarBytes / 1e6:F0} MB, built in {build.Elapsed.TotalSeconds:F1} s");

            var rows = new List<(string What, TimeSpan Time, long Bytes)>
            {
                await TimeAsync("raw copy of the tar", async () =>
                {
                    await using var source = File.OpenRead(tarPath);
                    await using var target = File.Create(Path.Combine(folder, "copy.tar"));
                    await source.CopyToAsync(target);
                    return target.Length;
                }),
            };

            ArchiveWriteResult? zstd = null;
            foreach (var compression in new[] { ArchiveCompression.Zstd, ArchiveCompression.Gzip })
            {
                rows.Add(await TimeAsync($"ArchiveWriter {compression}", async () =>
                {
                    await using var source = File.OpenRead(tarPath);
                    var result = await ArchiveWriter.WriteAsync(source, Path.Combine(folder, "mixed" + compression.FileExtension()),
                        new ArchiveWriteOptions { Compression = compression }, CancellationToken.None);
                    zstd ??= result;
                    return result.CompressedBytes;
                }));
            }

            rows.Add(await TimeAsync("gzip -6 (the tool)", async () =>
            {
                await Measure.RunAsync("sh", "-c", $"gzip -6 -c '{tarPath}' > '{folder}/tool.tar.gz'");
                return new FileInfo(Path.Combine(folder, "tool.tar.gz")).Length;
            }));
            rows.Add(await TimeAsync("validate the zstd archive", async () =>
            {
                var summary = await ArchiveVerifier.ValidateAsync(zstd!.Path, ArchiveCompression.Zstd, zstd.Sha256,
                    new TarSafetyOptions { ExpectedRoot = zstd.RootName, MaxTarBytes = zstd.TarBytes }, CancellationToken.None);
                return summary.TarBytes;
            }));

            var raw = rows[0].Time;
            var gzipTool = rows.Single(r => r.What.StartsWith("gzip", StringComparison.Ordinal)).Bytes;
            Console.WriteLine();
            Console.WriteLine($"{"step",-28} {"seconds",8} {"MB/s",8} {"x raw",7} {"bytes",14} {"x gzip -6",10}");
            foreach (var (what, time, bytes) in rows)
            {
                Console.WriteLine($"{what,-28} {time.TotalSeconds,8:F2} {tarBytes / 1e6 / time.TotalSeconds,8:F0} " +
                    $"{time / raw,7:F2} {bytes,14} {(double)bytes / gzipTool,10:F4}");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<(string, TimeSpan, long)> TimeAsync(string what, Func<Task<long>> step)
    {
        var watch = Stopwatch.StartNew();
        var bytes = await step();
        return (what, watch.Elapsed, bytes);
    }

    /// <summary>400/880 incompressible, 400/880 logfmt log lines with ids and timings, the rest small JSON
    /// dashboards, under one root folder like Docker's archive of a volume.</summary>
    private static void WriteMixedTar(string path, int megabytes)
    {
        var random = new Random(42);
        var scale = megabytes / 880.0;
        using var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax);
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/"));
        var chunk = new byte[4 << 20];
        for (var i = 0; i < (int)(100 * scale); i++)
        {
            random.NextBytes(chunk);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"data/chunks/chunk-{i:000}.bin") { DataStream = new MemoryStream(chunk) });
        }

        string[] paths = ["/api/dashboards/uid/", "/api/datasources/proxy/", "/api/search", "/api/health", "/login", "/api/annotations"];
        var time = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var n = 0; n < 8; n++)
        {
            var log = new StringBuilder();
            while (log.Length < 50 * 1024 * 1024 * scale)
            {
                time = time.AddMilliseconds(random.Next(1, 400));
                log.Append($"logger=context userId={random.Next(40)} orgId=1 t={time:O} level={(random.Next(10) == 0 ? "error" : "info")} ")
                    .Append($"msg=\"Request Completed\" method=GET path={paths[random.Next(paths.Length)]}{random.Next(1000):x} ")
                    .Append($"status={(random.Next(8) == 0 ? 500 : 200)} remote_addr=172.20.0.{random.Next(2, 30)} ")
                    .Append($"duration={random.NextDouble() * 900:F3}ms size={random.Next(90000)} traceID={random.NextInt64():x16}\n");
            }

            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"data/logs/grafana-{n}.log")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(log.ToString())),
            });
        }

        for (var i = 0; i < (int)(20_000 * scale); i++)
        {
            var panels = string.Join(",\n", Enumerable.Range(0, random.Next(1, 6)).Select(j =>
                $"    {{ \"id\": {j}, \"type\": \"timeseries\", \"title\": \"Panel {j}\", \"targets\": [{{ \"expr\": \"rate(http_requests_total{{job=\\\"svc{random.Next(9)}\\\"}}[5m])\" }}], \"gridPos\": {{ \"x\": {random.Next(24)}, \"y\": {random.Next(40)}, \"w\": 12, \"h\": 8 }} }}"));
            var json = $"{{\n  \"uid\": \"{random.NextInt64():x12}\",\n  \"title\": \"Dashboard {i}\",\n  \"version\": {random.Next(50)},\n  \"panels\": [\n{panels}\n  ]\n}}\n";
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"data/json/{i / 500:000}/dash-{i:00000}.json")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(json)),
            });
        }
    }
}
