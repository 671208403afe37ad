using System.Diagnostics;
using System.Text;

namespace GrafanaPanel.StackTests.Infrastructure;

public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => $"exit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>Runs the real command-line tools the stack is checked with.</summary>
public static class Tool
{
    private static readonly Dictionary<string, string> InstallHints = new()
    {
        ["docker"] = "apt-get install docker.io, start dockerd, and install the Compose v2 plugin (see docs/testing.md, 'Compose v2')",
        ["promtool"] = "apt-get install prometheus",
        ["amtool"] = "apt-get install prometheus-alertmanager",
        ["git"] = "apt-get install git",
        ["python3"] = "apt-get install python3 (the offline stack's stand-ins are Python programs)",
    };

    /// <summary>Fails (never skips) with what to install when a tool is not on PATH.</summary>
    public static string Require(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
        Assert.True(path is not null,
            $"'{name}' is required by this test and is not on PATH: {InstallHints.GetValueOrDefault(name, "install it")}.");
        return path!;
    }

    public static async Task<ToolResult> RunAsync(
        string name,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(Require(name))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        using var process = new Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}:\n{stdout}\n{stderr}");
        }

        process.WaitForExit(); // drains the asynchronous output readers
        return new ToolResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
