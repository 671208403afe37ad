using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace GrafanaPanel.Web.Tests.Documentation;

/// <summary>
/// The README stays short, every link of the documentation leads to a file (and heading) of the repository, and no
/// code, test, script or deployment file cites a document the repository does not hold.
/// </summary>
public sealed partial class DocumentationLinksTests
{
    private const int ReadmeMaxBytes = 20_000;

    private static readonly string[] SkippedFolders = ["bin", "obj", ".git", "node_modules"];

    [Fact]
    public void The_README_is_at_most_20000_bytes()
    {
        var size = new FileInfo(RepositoryFiles.PathOf("README.md")).Length;

        Assert.True(size <= ReadmeMaxBytes,
            $"README.md is {size} bytes; keep it at most {ReadmeMaxBytes} and move detail into a page under docs/.");
    }

    [Fact]
    public void Every_relative_link_in_the_README_and_docs_points_at_a_file_of_the_repository()
    {
        var pages = DocumentationPages();
        Assert.Contains(pages, p => p.EndsWith(Path.Combine("docs", "security.md"), StringComparison.Ordinal));

        var problems = new List<string>();
        foreach (var page in pages)
        {
            var lines = ProseLines(File.ReadAllLines(page));
            foreach (var (number, text) in lines)
            {
                foreach (Match link in MarkdownLink().Matches(text))
                {
                    var problem = CheckLink(page, link.Groups["target"].Value);
                    if (problem is not null)
                    {
                        problems.Add($"{Relative(page)}, line {number}: ({link.Groups["target"].Value}) {problem}");
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, "Broken documentation links:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void No_file_names_a_document_that_is_not_in_the_repository()
    {
        var documents = MarkdownFilesUnder(RepositoryFiles.Root).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("README.md", documents);

        var problems = new List<string>();
        foreach (var file in FilesThatMayCiteDocuments())
        {
            var bytes = File.ReadAllBytes(file);
            if (Array.IndexOf(bytes, (byte)0) >= 0)
            {
                continue; // Binary (captured tars and the like).
            }

            var lines = Encoding.UTF8.GetString(bytes).Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                foreach (Match outside in TeamNotes().Matches(lines[i]))
                {
                    problems.Add($"{Relative(file)}, line {i + 1}: '{outside.Value}' is outside the repository; cite a page under docs/.");
                }

                foreach (Match name in DocumentName().Matches(lines[i]))
                {
                    if (!documents.Contains(name.Value))
                    {
                        problems.Add($"{Relative(file)}, line {i + 1}: '{name.Value}' is not a file of the repository.");
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, "Files cite documents that do not exist here:\n" + string.Join("\n", problems));
    }

    [Theory]
    [InlineData("First Admin", "first-admin")]
    [InlineData("Sign-in and roles", "sign-in-and-roles")]
    [InlineData("Operations: health, metrics, jobs, image, database", "operations-health-metrics-jobs-image-database")]
    [InlineData("The `Stack__Probes` settings", "the-stack__probes-settings")]
    [InlineData("Reset to a module's start", "reset-to-a-modules-start")]
    public void A_heading_s_anchor_is_made_as_GitHub_makes_it(string heading, string anchor) =>
        Assert.Equal(anchor, Slug(heading));

    /// <summary>Why <paramref name="target"/>, linked from <paramref name="page"/>, leads nowhere; null when it is fine.</summary>
    private static string? CheckLink(string page, string target)
    {
        if (UriScheme().IsMatch(target))
        {
            return null; // http(s), mailto: not this test's business.
        }

        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var path = hash < 0 ? target : target[..hash];
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var resolved = path.Length == 0
            ? page
            : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(path)));
        if (!resolved.StartsWith(RepositoryFiles.Root, StringComparison.Ordinal))
        {
            return "leads outside the repository.";
        }

        if (!File.Exists(resolved) && !Directory.Exists(resolved))
        {
            return $"there is no file {Relative(resolved)}.";
        }

        if (anchor is { Length: > 0 } && resolved.EndsWith(".md", StringComparison.Ordinal)
            && !Anchors(File.ReadAllLines(resolved)).Contains(anchor))
        {
            return $"{Relative(resolved)} has no heading with the anchor #{anchor}.";
        }

        return null;
    }

    /// <summary>The anchors GitHub gives the headings of a page (a repeated heading gets -1, -2, …).</summary>
    private static HashSet<string> Anchors(string[] lines)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, text) in ProseLines(lines, keepInlineCode: true))
        {
            var heading = Heading().Match(text);
            if (!heading.Success)
            {
                continue;
            }

            var slug = Slug(heading.Groups["text"].Value);
            var candidate = slug;
            for (var n = 1; !anchors.Add(candidate); n++)
            {
                candidate = $"{slug}-{n.ToString(CultureInfo.InvariantCulture)}";
            }
        }

        return anchors;
    }

    /// <summary>GitHub's heading anchor: link text kept, lower case, punctuation but '-' and '_' dropped, spaces as '-'.</summary>
    private static string Slug(string heading)
    {
        var text = LinkInHeading().Replace(heading.Trim(), "${text}").ToLowerInvariant();
        var slug = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    /// <summary>Lines outside fenced code blocks; inline code removed unless kept (a link in code is only text).</summary>
    private static IEnumerable<(int Number, string Text)> ProseLines(string[] lines, bool keepInlineCode = false)
    {
        var inFence = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (!inFence)
            {
                yield return (i + 1, keepInlineCode ? lines[i] : InlineCode().Replace(lines[i], ""));
            }
        }
    }

    private static List<string> DocumentationPages()
    {
        var docs = RepositoryFiles.PathOf("docs");
        Assert.True(Directory.Exists(docs), "The repository has no docs/ folder.");
        return [RepositoryFiles.PathOf("README.md"), .. Directory.GetFiles(docs, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
    }

    /// <summary>Code, tests, scripts, deployment files and the documentation itself.</summary>
    private static IEnumerable<string> FilesThatMayCiteDocuments()
    {
        foreach (var folder in new[] { "src", "tests", "scripts", "deploy", "docs", ".ci" })
        {
            var path = RepositoryFiles.PathOf(folder);
            if (Directory.Exists(path))
            {
                foreach (var file in FilesUnder(path))
                {
                    yield return file;
                }
            }
        }

        foreach (var file in new[] { "docker-compose.yml", "Dockerfile", ".env.example", "README.md" })
        {
            var path = RepositoryFiles.PathOf(file);
            if (File.Exists(path))
            {
                yield return path;
            }
        }
    }

    private static IEnumerable<string> MarkdownFilesUnder(string folder) =>
        FilesUnder(folder).Where(f => f.EndsWith(".md", StringComparison.Ordinal));

    private static IEnumerable<string> FilesUnder(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            yield return file;
        }

        foreach (var sub in Directory.EnumerateDirectories(folder))
        {
            if (!SkippedFolders.Contains(Path.GetFileName(sub), StringComparer.Ordinal))
            {
                foreach (var file in FilesUnder(sub))
                {
                    yield return file;
                }
            }
        }
    }

    private static string Relative(string path) => Path.GetRelativePath(RepositoryFiles.Root, path);

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex UriScheme();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkInHeading();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    // The team's notes live outside the repository; code must cite docs/ instead.
    [GeneratedRegex(@"\bshared/(?:DESIGN|SECURITY|STACK|STYLE)\b|\bshared/[A-Za-z_-]+\.md\b")]
    private static partial Regex TeamNotes();

    // A document's file name, e.g. README.md or security.md (a path's last segment).
    [GeneratedRegex(@"(?<![A-Za-z0-9_.-])[A-Za-z_-]+\.md(?![A-Za-z0-9])")]
    private static partial Regex DocumentName();
}
