using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>The current module catalog, kept fresh from its file (a fake stands in for it in component tests).</summary>
public interface IModuleCatalog
{
    ModuleCatalogState Current { get; }

    /// <summary>Raised after the catalog or its error changed, on the thread that noticed; components use InvokeAsync.</summary>
    event Action<ModuleCatalogState>? Changed;

    /// <summary>Reads the file again if its content changed (pages call it when opened, in case a change event was missed).</summary>
    void Refresh();
}

/// <summary>
/// The catalog read from <see cref="ModulesOptions.CatalogPath"/>. A file watcher reloads it when it changes;
/// a malformed file is logged and reported (file, line, problem) while the last good catalog stays in use.
/// </summary>
public sealed partial class ModuleCatalogFile : IModuleCatalog, IHostedService, IDisposable
{
    /// <summary>Editors write a file in several steps (truncate, write, rename): wait for the last before reading.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);

    private readonly Lock _gate = new();
    private readonly ILogger<ModuleCatalogFile> _logger;
    private readonly TimeProvider _time;
    private ModuleCatalogState _state;
    private string? _lastText;
    private FileSystemWatcher? _watcher;
    private ITimer? _pending;

    public ModuleCatalogFile(IOptions<ModulesOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<ModuleCatalogFile> logger)
    {
        _logger = logger;
        _time = time;
        Path = ModulesOptions.ResolveCatalogPath(options.Value.CatalogPath, environment.ContentRootPath);
        _state = new ModuleCatalogState(ModuleCatalog.Empty(Path), null, null);
        Refresh();
    }

    public string Path { get; }

    public ModuleCatalogState Current => Volatile.Read(ref _state);

    public event Action<ModuleCatalogState>? Changed;

    public void Refresh()
    {
        ModuleCatalogState? next;
        lock (_gate)
        {
            next = Read();
        }

        if (next is not null && !ReferenceEquals(Interlocked.Exchange(ref _state, next), next))
        {
            Changed?.Invoke(next);
        }
    }

    /// <summary>The state after reading the file now; null when its content has not changed since the last read.</summary>
    private ModuleCatalogState? Read()
    {
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var problem = ex is FileNotFoundException or DirectoryNotFoundException
                ? "the module catalog file does not exist; set Modules__CatalogPath to the file (deploy/portal/modules.yaml in the repository)"
                : $"the module catalog file cannot be read: {ex.Message}";
            return Fail(new CatalogError(Path, null, null, problem), text: null);
        }

        if (text == _lastText)
        {
            return null;
        }

        try
        {
            var catalog = ModuleCatalogParser.Parse(Path, text);
            _lastText = text;
            LogLoaded(_logger, Path, catalog.Modules.Length);
            return new ModuleCatalogState(catalog, null, _time.GetUtcNow());
        }
        catch (ModuleCatalogException ex)
        {
            return Fail(ex.Error, text);
        }
    }

    /// <summary>Keeps the last good catalog and records why the file cannot be used now.</summary>
    private ModuleCatalogState Fail(CatalogError error, string? text)
    {
        var current = Current;
        if (current.Error == error)
        {
            return current;
        }

        _lastText = text;
        LogRejected(_logger, error.Path, error.Line, error.Problem, current.Catalog.Modules.Length);
        return current with { Error = error };
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        try
        {
            // The directory, not the file: editors and `git checkout` replace the file by renaming a new one over it,
            // and a watch on the old file would never fire again.
            _watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            _watcher.Changed += OnFileEvent;
            _watcher.Created += OnFileEvent;
            _watcher.Deleted += OnFileEvent;
            _watcher.Renamed += OnFileEvent;
            _watcher.Error += (_, e) => LogWatcherFailed(_logger, e.GetException(), directory);
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException)
        {
            // The Modules page still re-reads the file whenever it opens.
            LogWatcherFailed(_logger, ex, directory);
        }

        return Task.CompletedTask;
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e)
    {
        lock (_gate)
        {
            _pending ??= _time.CreateTimer(_ => ReloadAfterDebounce(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _pending.Change(Debounce, Timeout.InfiniteTimeSpan);
        }
    }

    private void ReloadAfterDebounce()
    {
        try
        {
            Refresh();
        }
        catch (Exception ex)
        {
            // A timer callback must not throw; the next change or page visit tries again.
            LogReloadFailed(_logger, ex, Path);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _watcher = null;
        lock (_gate)
        {
            _pending?.Dispose();
            _pending = null;
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Module catalog {CatalogPath} loaded: {ModuleCount} modules")]
    private static partial void LogLoaded(ILogger logger, string catalogPath, int moduleCount);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error,
        Message = "Module catalog {CatalogPath} rejected (line {Line}): {Problem}. Keeping the last good catalog ({ModuleCount} modules)")]
    private static partial void LogRejected(ILogger logger, string catalogPath, int? line, string problem, int moduleCount);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning,
        Message = "Cannot watch {Directory} for changes of the module catalog; it is re-read when the Modules page opens")]
    private static partial void LogWatcherFailed(ILogger logger, Exception? exception, string directory);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Error, Message = "Reloading the module catalog {CatalogPath} failed")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception, string catalogPath);
}
