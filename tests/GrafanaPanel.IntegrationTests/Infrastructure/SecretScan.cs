using System.Net;
using Npgsql;
using Serilog.Core;
using Serilog.Events;

namespace GrafanaPanel.IntegrationTests.Infrastructure;

/// <summary>
/// Finds known secrets (passwords, tokens, connection-string passwords) in what a portal logged, as written and
/// URL- or HTML-encoded. Every portal the suite hosts (<see cref="PanelAppFactory"/>, <see cref="PortalProcess"/>)
/// is scanned when it is disposed.
/// </summary>
public static class SecretScan
{
    /// <summary>Settings whose values are secrets, by the last part of their key.</summary>
    private static readonly string[] SecretKeyParts = ["Password", "Token", "Secret", "ApiKey"];

    /// <summary>The secret values among <paramref name="settings"/> and the password of <paramref name="connectionString"/>.</summary>
    public static List<string> SecretsOf(string? connectionString, IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var secrets = new List<string>();
        if (!string.IsNullOrEmpty(connectionString) && new NpgsqlConnectionStringBuilder(connectionString).Password is { Length: > 0 } password)
        {
            secrets.Add(password);
        }

        foreach (var (key, value) in settings)
        {
            var last = key.Split([":", "__"], StringSplitOptions.None).Last();
            if (!string.IsNullOrEmpty(value) && SecretKeyParts.Any(p => last.Contains(p, StringComparison.OrdinalIgnoreCase)))
            {
                secrets.Add(value);
            }
        }

        return secrets;
    }

    /// <summary>The lines that hold a secret (in any of its encodings), each with the secret's position named, never the secret.</summary>
    public static IReadOnlyList<string> Find(IEnumerable<string> lines, IEnumerable<string> secrets)
    {
        // Shorter than this, a "secret" matches by chance (test settings like "x").
        var forms = secrets.Where(s => s.Length >= 6).Distinct()
            .Select((secret, index) => (index, forms: new[] { secret, Uri.EscapeDataString(secret), WebUtility.UrlEncode(secret), WebUtility.HtmlEncode(secret) }.Distinct().ToArray()))
            .ToList();
        var found = new List<string>();
        foreach (var line in lines)
        {
            foreach (var (index, encodings) in forms)
            {
                if (encodings.Any(f => line.Contains(f, StringComparison.Ordinal)))
                {
                    found.Add($"secret #{index} in: {Redact(line, encodings)}");
                }
            }
        }

        return found;
    }

    public static void AssertNone(IEnumerable<string> lines, IEnumerable<string> secrets, string what)
    {
        var found = Find(lines, secrets);
        if (found.Count > 0)
        {
            throw new InvalidOperationException($"{what} wrote {found.Count} line(s) with a secret:\n{string.Join('\n', found.Take(10))}");
        }
    }

    private static string Redact(string line, IEnumerable<string> forms) =>
        forms.Aggregate(line, (text, form) => text.Replace(form, "***", StringComparison.Ordinal));
}

/// <summary>A Serilog sink (picked up through the app's <c>ReadFrom.Services</c>) that keeps every event the portal logs, fully rendered.</summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly List<string> _lines = [];

    public void Emit(LogEvent logEvent)
    {
        using var text = new StringWriter();
        text.Write($"[{logEvent.Level}] {logEvent.RenderMessage()}");
        foreach (var (name, value) in logEvent.Properties)
        {
            text.Write($" {name}=");
            value.Render(text);
        }

        if (logEvent.Exception is not null)
        {
            text.Write($" {logEvent.Exception}");
        }

        lock (_lines)
        {
            _lines.Add(text.ToString());
        }
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }
}
