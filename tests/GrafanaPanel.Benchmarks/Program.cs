using GrafanaPanel.Benchmarks;

// Usage: dotnet run -c Release --project tests/GrafanaPanel.Benchmarks -- overview [--iterations N] [--offline-project NAME]
//        … -- reset --offline-project NAME [--rounds N] [--megabytes N] [--stop-grace SECONDS] [--safety-backup]
// scripts/bench.sh sets up what this needs (PostgreSQL, Docker, the offline stack) and calls it.
//        dotnet run -c Release --project tests/GrafanaPanel.Benchmarks -- archive [--megabytes N]
// needs nothing but gzip: the backup archive core on a generated mixed volume.
//        dotnet run -c Release --project tests/GrafanaPanel.Benchmarks -- backup [--runs N] [--scale X]
// needs Docker, gzip and local/gp-bench-busybox:1 (scripts/bench.sh backup builds it): the portal's backup and restore
// on the real engine next to the raw archive stream, busybox tar czf, gzip -6 and a raw archive upload.
var command = args.FirstOrDefault() ?? "";
switch (command)
{
    case "archive":
        return await ArchiveBenchmark.RunAsync(args.Skip(1).ToArray());
    case "backup":
        return await BackupBenchmark.RunAsync(args.Skip(1).ToArray());
}

var options = BenchOptions.Parse(args.Skip(1).ToArray());
switch (command)
{
    case "overview":
        return await OverviewBenchmark.RunAsync(options);
    case "reset":
        return await ResetBenchmark.RunAsync(options, args.Skip(1).ToArray());
    default:
        Console.Error.WriteLine("usage: GrafanaPanel.Benchmarks overview [--iterations N] [--offline-project NAME] | reset --offline-project NAME [--rounds N] | archive [--megabytes N] | backup [--runs N] [--scale X]");
        return 2;
}
