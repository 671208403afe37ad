using System.Diagnostics;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// <c>docker events</c> with filters, followed from now on: a test waits for the first matching event (a helper
/// container exiting, say) instead of polling for a state that may last only milliseconds.
/// </summary>
public sealed class DockerEvents : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly List<string> _ids = [];
    private readonly List<(int Count, TaskCompletionSource<string> Done)> _waiting = [];

    private DockerEvents(Process process) => _process = process;

    /// <summary>The first event's id (the container's), once it has happened.</summary>
    public Task<string> First => Nth(1);

    /// <summary>The <paramref name="count"/>-th event's id, once it has happened.</summary>
    public Task<string> Nth(int count)
    {
        lock (_gate)
        {
            if (_ids.Count >= count)
            {
                return Task.FromResult(_ids[count - 1]);
            }

            var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((count, done));
            return done.Task;
        }
    }

    private void Add(string id)
    {
        lock (_gate)
        {
            _ids.Add(id);
            foreach (var waiter in _waiting.Where(w => w.Count == _ids.Count).ToList())
            {
                waiter.Done.TrySetResult(id);
                _waiting.Remove(waiter);
            }
        }
    }

    /// <summary>Starts following (events since this second are replayed, so none is missed while the CLI starts);
    /// <paramref name="filters"/> are <c>docker events --filter</c> values such as <c>event=die</c>.</summary>
    public static DockerEvents Follow(params string[] filters)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("events");
        start.ArgumentList.Add("--since");
        start.ArgumentList.Add(DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var filter in filters)
        {
            start.ArgumentList.Add("--filter");
            start.ArgumentList.Add(filter);
        }

        start.ArgumentList.Add("--format");
        start.ArgumentList.Add("{{.ID}}");
        var events = new DockerEvents(Process.Start(start) ?? throw new InvalidOperationException("docker events could not be started."));
        events._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } id)
            {
                events.Add(id);
            }
        };
        events._process.BeginOutputReadLine();
        events._process.BeginErrorReadLine();
        return events;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
