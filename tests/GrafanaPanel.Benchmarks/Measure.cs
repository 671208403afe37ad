using System.Diagnostics;

namespace GrafanaPanel.Benchmarks;

/// <summary>Runs an operation repeatedly after a warm-up and reports the median wall time.</summary>
public static class Measure
{
    public static async Task<TimeSpan> MedianAsync(int iterations, Func<Task> operation)
    {
        await operation();
        var times = new List<TimeSpan>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            var watch = Stopwatch.StartNew();
            await operation();
            times.Add(watch.Elapsed);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Runs a command to completion; fails with its stderr when it fails.</summary>
    public static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {await error}");
        }

        return await output;
    }
}
