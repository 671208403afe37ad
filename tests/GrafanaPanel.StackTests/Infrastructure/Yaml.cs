using YamlDotNet.Serialization;

namespace GrafanaPanel.StackTests.Infrastructure;

/// <summary>YAML loaded as plain dictionaries and lists, navigated by key.</summary>
public static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    public static object? Load(string path) => Deserializer.Deserialize<object?>(File.ReadAllText(path));

    public static object? At(this object? node, params object[] path)
    {
        foreach (var step in path)
        {
            node = (node, step) switch
            {
                (IDictionary<object, object?> map, string key) => map.TryGetValue(key, out var value) ? value : null,
                (IList<object?> list, int index) => index < list.Count ? list[index] : null,
                _ => null,
            };
        }

        return node;
    }

    public static string? Text(this object? node, params object[] path) => node.At(path)?.ToString();

    public static IEnumerable<object?> Items(this object? node, params object[] path) =>
        node.At(path) as IList<object?> ?? [];
}
