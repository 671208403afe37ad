namespace GrafanaPanel.StackTests.Infrastructure;

/// <summary>A compose env file (KEY=value lines, # comments) such as .env.example.</summary>
public sealed class EnvFile
{
    private readonly List<KeyValuePair<string, string>> _entries;

    private EnvFile(List<KeyValuePair<string, string>> entries) => _entries = entries;

    public static EnvFile Load(string path) => new(File.ReadLines(path)
        .Select(line => line.Trim())
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .Select(line => line.Split('=', 2))
        .Select(parts => KeyValuePair.Create(parts[0], parts.Length > 1 ? parts[1] : ""))
        .ToList());

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public string this[string key] => _entries.Single(e => e.Key == key).Value;

    public EnvFile Without(string key) => new(_entries.Where(e => e.Key != key).ToList());

    public EnvFile With(string key, string value) =>
        new(_entries.Where(e => e.Key != key).Append(KeyValuePair.Create(key, value)).ToList());

    /// <summary>Writes the file to a new temporary path and returns it.</summary>
    public string WriteTemporary()
    {
        var path = Path.Combine(Path.GetTempPath(), $"stacktests-{Guid.NewGuid():N}.env");
        File.WriteAllLines(path, _entries.Select(e => $"{e.Key}={e.Value}"));
        return path;
    }
}
