using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace GrafanaPanel.IntegrationTests.Audit;

public sealed class AuditLogTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly PanelAppFactory _app = new();
    private readonly FakeTimeProvider _clock = new(Start);
    private AuditLog _log = null!;

    public async ValueTask InitializeAsync()
    {
        await _app.InitializeAsync();
        await _app.WaitUntilDatabaseReadyAsync();
        _log = TestAudit.LogWithClock(_app, _clock);
    }

    public ValueTask DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task RecordAsync_stores_who_what_target_outcome_error_and_time()
    {
        await RecordAtAsync(Start, new AuditRecord("alice@panel.test", "service.restart", "grafana", Succeeded: true));
        await RecordAtAsync(Start.AddMinutes(1), new AuditRecord("bob@panel.test", "service.stop", "loki", Succeeded: false, "No such container: loki"));

        var result = await _log.SearchAsync(new AuditQuery(), 0, 10, CancellationToken.None);

        Assert.Equal(2, result.TotalCount);
        var newest = result.Entries[0];
        Assert.Equal(("bob@panel.test", "service.stop", "loki", false, "No such container: loki"), (newest.User, newest.Action, newest.Target, newest.Succeeded, newest.Error));
        Assert.Equal(Start.AddMinutes(1), newest.At);
        Assert.Equal(("alice@panel.test", true, (string?)null), (result.Entries[1].User, result.Entries[1].Succeeded, result.Entries[1].Error));
    }

    [Fact]
    public async Task SearchAsync_matches_user_action_and_target_when_they_contain_the_text_in_any_case()
    {
        await RecordAtAsync(Start, new AuditRecord("Alice@Panel.test", "user.lock", "bob@panel.test", true));
        await RecordAtAsync(Start, new AuditRecord("alice@panel.test", "user.unlock", "bob@panel.test", true));
        await RecordAtAsync(Start, new AuditRecord("carol@panel.test", "service.restart", "grafana", true));
        await RecordAtAsync(Start, new AuditRecord("carol@panel.test", "backup.create", "100%_done", true));

        Assert.Equal(2, await CountAsync(new AuditQuery(User: "ALICE")));
        Assert.Equal(2, await CountAsync(new AuditQuery(Action: "LOCK")));
        Assert.Equal(1, await CountAsync(new AuditQuery(Action: "unlock")));
        Assert.Equal(1, await CountAsync(new AuditQuery(Target: "Graf")));
        Assert.Equal(1, await CountAsync(new AuditQuery(User: " carol ", Action: "restart", Target: "grafana")));
        Assert.Equal(0, await CountAsync(new AuditQuery(User: "alice", Target: "grafana")));
        // % and _ are text here, not wildcards.
        Assert.Equal(1, await CountAsync(new AuditQuery(Target: "0%_d")));
        Assert.Equal(0, await CountAsync(new AuditQuery(Target: "b%b")));
        Assert.Equal(0, await CountAsync(new AuditQuery(User: "_lice")));
        Assert.Equal(4, await CountAsync(new AuditQuery(User: "  ")));
    }

    [Fact]
    public async Task SearchAsync_keeps_entries_from_the_start_time_up_to_but_not_including_the_end_time()
    {
        for (var hour = 0; hour < 5; hour++)
        {
            await RecordAtAsync(Start.AddHours(hour), new AuditRecord("alice@panel.test", "service.restart", $"hour {hour}", true));
        }

        // The same instants written with another offset: 09:00Z is 11:00+02:00.
        var plusTwo = TimeSpan.FromHours(2);
        var between = await _log.SearchAsync(
            new AuditQuery(From: Start.AddHours(1).ToOffset(plusTwo), To: Start.AddHours(3).ToOffset(plusTwo)), 0, 10, CancellationToken.None);

        Assert.Equal(["hour 2", "hour 1"], between.Entries.Select(e => e.Target));
        Assert.Equal(["hour 4", "hour 3"], (await _log.SearchAsync(new AuditQuery(From: Start.AddHours(3)), 0, 10, CancellationToken.None)).Entries.Select(e => e.Target));
        Assert.Equal(["hour 0"], (await _log.SearchAsync(new AuditQuery(To: Start.AddHours(1)), 0, 10, CancellationToken.None)).Entries.Select(e => e.Target));
    }

    [Fact]
    public async Task SearchAsync_pages_newest_first_and_counts_every_match()
    {
        for (var i = 0; i < 23; i++)
        {
            await RecordAtAsync(Start.AddSeconds(i), new AuditRecord("alice@panel.test", "service.restart", $"entry {i:00}", true));
        }

        // Two entries of the same instant still page in a stable order.
        await RecordAtAsync(Start.AddSeconds(22), new AuditRecord("alice@panel.test", "service.restart", "entry 22b", true));

        var pages = new List<string>();
        for (var page = 0; page < 3; page++)
        {
            var result = await _log.SearchAsync(new AuditQuery(), page * 10, 10, CancellationToken.None);
            Assert.Equal(24, result.TotalCount);
            pages.AddRange(result.Entries.Select(e => e.Target));
        }

        var expected = new[] { "entry 22b" }.Concat(Enumerable.Range(0, 23).Reverse().Select(i => $"entry {i:00}"));
        Assert.Equal(expected, pages);
    }

    [Fact]
    public async Task RecordAsync_cuts_over_long_fields_instead_of_losing_the_entry()
    {
        var target = new string('t', 2000);
        await RecordAtAsync(Start, new AuditRecord("alice@panel.test", "service.restart", target, false, new string('e', 10_000)));

        var entry = Assert.Single((await _log.SearchAsync(new AuditQuery(), 0, 10, CancellationToken.None)).Entries);
        Assert.Equal(AuditEntry.TargetMaxLength, entry.Target.Length);
        Assert.StartsWith("tttt", entry.Target);
        Assert.Equal(AuditEntry.ErrorMaxLength, entry.Error!.Length);
    }

    [Fact]
    public async Task RecordAsync_does_not_throw_when_the_database_is_unreachable_and_logs_the_whole_record()
    {
        var unreachable = new DbContextOptionsBuilder<PanelDbContext>()
            .UseNpgsql("Host=127.0.0.1;Port=1;Database=nowhere;Username=nobody;Password=x;Timeout=3").Options;
        var logger = new ListLogger();
        var log = new AuditLog(new FixedFactory(unreachable), _clock, logger);

        await log.RecordAsync(new AuditRecord("alice@panel.test", "service.stop", "loki", Succeeded: true));

        var logged = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.NotNull(logged.Exception);
        Assert.Contains("alice@panel.test", logged.Message);
        Assert.Contains("service.stop", logged.Message);
        Assert.Contains("loki", logged.Message);
    }

    private async Task RecordAtAsync(DateTimeOffset at, AuditRecord record)
    {
        _clock.SetUtcNow(at);
        await _log.RecordAsync(record);
    }

    private async Task<int> CountAsync(AuditQuery query) => (await _log.SearchAsync(query, 0, 100, CancellationToken.None)).TotalCount;

    private sealed class FixedFactory(DbContextOptions<PanelDbContext> options) : IDbContextFactory<PanelDbContext>
    {
        public PanelDbContext CreateDbContext() => new(options);
    }

    private sealed class ListLogger : ILogger<AuditLog>
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
