using GrafanaPanel.Benchmarks;

// Usage: dotnet run -c Release --project tests/GrafanaPanel.Benchmarks -- overview [--iterations N] [--offline-project NAME]
// scripts/bench.sh sets up what this needs (PostgreSQL, Docker, the offline stack) and calls it.
var command = args.FirstOrDefault() ?? "";
var options = BenchOptions.Parse(args.Skip(1).ToArray());
switch (command)
{
    case "overview":
        return await OverviewBenchmark.RunAsync(options);
    default:
        Console.Error.WriteLine("usage: GrafanaPanel.Benchmarks overview [--iterations N] [--offline-project NAME]");
        return 2;
}
