using GrafanaPanel.Web.Features.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.Web.Tests.Features.Audit;

public sealed class AuditPageTests : PanelTestContext
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly FakeAuditReader _reader = new();

    public AuditPageTests()
    {
        Services.AddSingleton<IAuditReader>(_reader);
        UseInteractiveServerRenderer();
    }

    [Fact]
    public void Shows_the_entries_the_log_returns_with_their_outcome_and_error()
    {
        _reader.Entries.Add(Entry(2, "bob@panel.test", "user.lock", "carol@panel.test", succeeded: false, "Cannot lock carol@panel.test: it is the last active Admin."));
        _reader.Entries.Add(Entry(1, "alice@panel.test", "user.create", "bob@panel.test as Viewer", succeeded: true));

        var page = Render<AuditPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-test=audit-user]").Count));
        Assert.Equal(["bob@panel.test", "alice@panel.test"], page.FindAll("[data-test=audit-user]").Select(c => c.TextContent));
        Assert.Equal(["user.lock", "user.create"], page.FindAll("[data-test=audit-action]").Select(c => c.TextContent));
        Assert.Equal(["failed", "succeeded"], page.FindAll("[data-test=audit-outcome]").Select(c => c.TextContent.Trim()));
        Assert.Contains("last active Admin", page.FindAll("[data-test=audit-error]")[0].TextContent);
        Assert.Equal("", page.FindAll("[data-test=audit-error]")[1].TextContent);
        Assert.Equal(new AuditQuery(), _reader.Queries[^1].Query);
        Assert.Equal(0, _reader.Queries[^1].Skip);
    }

    [Fact]
    public void Says_so_when_no_entry_matches()
    {
        var page = Render<AuditPage>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=audit-empty]")));
        Assert.Empty(page.FindAll("[data-test=audit-user]"));
    }

    [Fact]
    public void A_filter_asks_the_log_again_and_the_export_link_carries_it()
    {
        _reader.Entries.Add(Entry(1, "alice@panel.test", "user.create", "bob@panel.test as Viewer", succeeded: true));
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Single(_reader.Queries));

        page.Find("input[data-test=filter-user]").Input("alice");
        page.Find("input[data-test=filter-target]").Input("bob");

        page.WaitForAssertion(() => Assert.Equal(new AuditQuery(User: "alice", Target: "bob"), _reader.Queries[^1].Query), TimeSpan.FromSeconds(3));
        // The page renders the new link once the filter's handler has finished, just after the query went out.
        page.WaitForAssertion(() => Assert.Equal("/audit/export.csv?user=alice&target=bob", page.Find("[data-test=export-csv]").GetAttribute("href")));
        Assert.True(page.Find("[data-test=export-csv]").HasAttribute("download"));
    }

    [Fact]
    public void Paging_asks_the_log_for_the_next_rows()
    {
        for (var i = 0; i < 60; i++)
        {
            _reader.Entries.Add(Entry(60 - i, "alice@panel.test", "service.restart", $"grafana {i}", succeeded: true));
        }

        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll("[data-test=audit-user]").Count));

        page.Find("button[aria-label='Next page']").Click();

        page.WaitForAssertion(() => Assert.Equal(25, _reader.Queries[^1].Skip));
        page.WaitForAssertion(() => Assert.Equal("grafana 25", page.FindAll("[data-test=audit-target]")[0].TextContent));
    }

    private static AuditEntry Entry(int minute, string user, string action, string target, bool succeeded, string? error = null) => new()
    {
        Id = minute,
        At = Start.AddMinutes(minute),
        User = user,
        Action = action,
        Target = target,
        Succeeded = succeeded,
        Error = error,
    };

    /// <summary>Serves pages of the entries it holds, in the order given, and remembers every query.</summary>
    private sealed class FakeAuditReader : IAuditReader
    {
        public List<AuditEntry> Entries { get; } = [];

        public List<(AuditQuery Query, int Skip, int Take)> Queries { get; } = [];

        public Task<AuditSearchResult> SearchAsync(AuditQuery query, int skip, int take, CancellationToken ct)
        {
            lock (Queries)
            {
                Queries.Add((query, skip, take));
            }

            return Task.FromResult(new AuditSearchResult(Entries.Skip(skip).Take(take).ToList(), Entries.Count));
        }
    }
}
