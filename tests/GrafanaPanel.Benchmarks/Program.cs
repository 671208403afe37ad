using GrafanaPanel.Benchmarks;

// Usage: dotnet run -c Release --project tests/GrafanaPanel.Benchmarks -- overview [--iterations N] [--offline-project NAME]
//        … -- reset --offline-project NAME [--rounds N] [--megabytes N] [--stop-grace SECONDS] [--safety-backup]
// scripts/bench.sh sets up what this needs (PostgreSQL, Docker, the offline stack) and calls it.
//        dotnet run -c Release --project tests/GrafanaPanel.Benchmarks -- archive [--megabytes N]
// needs nothing but gzip: the backup archive core on a generated mixed volume.
var command = args.FirstOrDefault() ?? "";
if (command == "archive")
{
    return await ArchiveBenchmark.RunAsync(args.Skip(1).ToArray());
}

var options = BenchOptions.Parse(args.Skip(1).ToArray());
switch (command)
{
    case "overview":
        return await OverviewBenchmark.RunAsync(options);
    case "reset":
        return await ResetBenchmark.RunAsync(options, args.Skip(1).ToArray());
    default:
        Console.Error.WriteLine("usage: GrafanaPanel.Benchmarks overview [--iterations N] [--offline-project NAME] | reset --offline-project NAME [--rounds N] | archive [--megabytes N]");
        return 2;
}
