namespace GrafanaPanel.Web.Features.Stack;

/// <summary>Thrown when a stack-changing operation is asked for while another one runs (or is queued to run).</summary>
public sealed class StackBusyException(string running, string state = "running")
    : PanelRefusalException($"The stack is busy: {running} is {state}. Wait until it has finished and try again.")
{
    public override int StatusCode => StatusCodes.Status409Conflict;

    public string Running { get; } = running;
}

/// <summary>
/// One stack-changing operation at a time (whole-stack start/stop/restart, restores, resets). A second request is
/// refused at once with the name of the running one, never queued behind it and never interleaved.
/// </summary>
public sealed class StackLock
{
    private readonly Lock _gate = new();
    private string? _holder;

    public string? Holder
    {
        get { lock (_gate) { return _holder; } }
    }

    public IDisposable Acquire(string operation)
    {
        lock (_gate)
        {
            if (_holder is not null)
            {
                throw new StackBusyException(_holder);
            }

            _holder = operation;
        }

        return new Release(this);
    }

    private sealed class Release(StackLock owner) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                lock (owner._gate)
                {
                    owner._holder = null;
                }
            }
        }
    }
}
