using GrafanaPanel.Web.Features.Modules;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class NotesMarkdownTests
{
    [Fact]
    public void Markdown_renders_as_html()
    {
        var html = NotesMarkdown.ToHtml("# Before class\n\n- **Restart** Loki\n- see [docs](https://grafana.com/docs/)\n\n| a | b |\n|---|---|\n| 1 | 2 |");

        Assert.Contains("<h1", html);
        Assert.Contains("<strong>Restart</strong>", html);
        Assert.Contains("<table>", html);
        Assert.Contains("href=\"https://grafana.com/docs/\"", html);
        Assert.Contains("rel=\"noopener noreferrer nofollow\"", html);
        Assert.Contains("target=\"_blank\"", html);
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("Text <script>alert(1)</script> inline")]
    [InlineData("<img src=x onerror=alert(1)>")]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("<iframe src=\"https://evil.example\"></iframe>")]
    public void Raw_html_is_written_as_text_never_as_markup(string markdown)
    {
        var html = NotesMarkdown.ToHtml(markdown);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<iframe", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<a ", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;", html);
    }

    [Theory]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JaVaScRiPt:alert(1))")]
    [InlineData("[x](&#106;avascript:alert(1))")]
    [InlineData("[x](java&#9;script:alert(1))")]
    [InlineData("[x](<javascript:alert(1)>)")]
    [InlineData("[x](vbscript:msgbox(1))")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("[x][ref]\n\n[ref]: javascript:alert(1)")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("![x](javascript:alert(1))")]
    public void A_link_or_image_with_an_unsafe_scheme_keeps_its_text_and_loses_its_url(string markdown)
    {
        var html = NotesMarkdown.ToHtml(markdown);

        Assert.DoesNotContain("href=", html);
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotContain("<a ", html);
        Assert.DoesNotContain("<img", html);
    }

    [Fact]
    public void The_text_of_an_unsafe_link_stays_readable() =>
        Assert.Equal("<p>click <em>here</em> now</p>\n", NotesMarkdown.ToHtml("click [*here*](javascript:alert(1)) now"));

    [Theory]
    [InlineData("https://grafana.com/", true)]
    [InlineData("http://lab.example:3000/d/x", true)]
    [InlineData("mailto:trainer@example.org", true)]
    [InlineData("/modules/module-1", true)]
    [InlineData("#goals", true)]
    [InlineData("docs/a:b", true)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData(" javascript:alert(1)", false)]
    [InlineData("java\nscript:alert(1)", false)]
    [InlineData("data:text/html,x", false)]
    [InlineData("file:///etc/passwd", false)]
    public void Only_relative_urls_http_https_and_mailto_are_safe(string url, bool safe) =>
        Assert.Equal(safe, NotesMarkdown.IsSafeUrl(url));

    [Fact]
    public void No_markdown_extension_lets_notes_add_attributes()
    {
        // Markdig's generic attributes extension would turn these into attributes; here they stay text.
        var html = NotesMarkdown.ToHtml("# Title {onclick=\"alert(1)\"}\n\n[x](https://a.example){onmouseover=alert(1)}");

        Assert.DoesNotContain(" onclick=", html);
        Assert.DoesNotContain(" onmouseover=", html);
        Assert.Contains("{onmouseover=alert(1)}", html);
    }
}
