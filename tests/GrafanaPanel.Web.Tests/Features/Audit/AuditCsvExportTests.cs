using System.Text;
using GrafanaPanel.Web.Features.Audit;

namespace GrafanaPanel.Web.Tests.Features.Audit;

public sealed class AuditCsvExportTests
{
    [Theory]
    [InlineData("grafana", "\"grafana\"")]
    [InlineData("", "\"\"")]
    [InlineData(null, "\"\"")]
    [InlineData("a, b", "\"a, b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\r\nlines", "\"two\r\nlines\"")]
    public void Field_quotes_every_value_and_doubles_quotes(string? value, string expected) =>
        Assert.Equal(expected, AuditCsvExport.Field(value));

    [Theory]
    [InlineData("=1+1", "\"'=1+1\"")]
    [InlineData("+1", "\"'+1\"")]
    [InlineData("-1", "\"'-1\"")]
    [InlineData("@SUM(A1)", "\"'@SUM(A1)\"")]
    [InlineData("\t=1", "\"'\t=1\"")]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("a=1", "\"a=1\"")]
    public void Field_neutralises_a_cell_a_spreadsheet_would_run_as_a_formula(string value, string expected) =>
        Assert.Equal(expected, AuditCsvExport.Field(value));

    [Fact]
    public async Task WriteAsync_writes_the_header_and_one_crlf_record_per_entry_in_utf8_without_bom()
    {
        var entries = new[]
        {
            new AuditEntry { At = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.FromHours(2)), User = "zoë@panel.test", Action = "user.lock", Target = "bob", Succeeded = false, Error = "no" },
        };
        using var body = new MemoryStream();

        await AuditCsvExport.WriteAsync(body, entries.ToAsyncEnumerable(), CancellationToken.None);

        var bytes = body.ToArray();
        Assert.Equal((byte)'"', bytes[0]);
        Assert.Equal(
            "\"At\",\"User\",\"Action\",\"Target\",\"Outcome\",\"Error\"\r\n" +
            "\"2026-03-01T08:00:00.000Z\",\"zoë@panel.test\",\"user.lock\",\"bob\",\"failed\",\"no\"\r\n",
            Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void The_export_link_escapes_its_values_so_an_offset_survives_the_query_string()
    {
        var query = new AuditQuery(User: " a&b ", Action: "", From: new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.FromHours(2)));

        Assert.Equal("/audit/export.csv?user=a%26b&from=2026-03-01T10%3A00%3A00.0000000%2B02%3A00", query.ExportUrl());
        Assert.Equal("/audit/export.csv", new AuditQuery().ExportUrl());
    }
}
