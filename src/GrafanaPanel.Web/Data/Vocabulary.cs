using System.Collections.Frozen;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace GrafanaPanel.Web.Data;

/// <summary>
/// The one mapping between an enum and the words it is stored and shown as. The stored form (database column, JSON
/// on disk, API) is the member's name in kebab case: <c>PreRestore</c> is <c>pre-restore</c>. Pages show
/// <see cref="Display{T}"/>: the stored form, or the member's <see cref="DisplayAttribute"/> name where words read
/// better (<c>NotVerified</c> is "not verified").
/// </summary>
public static class Vocabulary
{
    /// <summary>The stored form of <paramref name="value"/>, e.g. <c>pre-restore</c>.</summary>
    public static string Name<T>(T value)
        where T : struct, Enum =>
        Words<T>.Names.TryGetValue(value, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a {typeof(T).Name}.");

    /// <summary>The member whose stored form is <paramref name="name"/>.</summary>
    /// <exception cref="InvalidDataException">No member has that stored form; the message lists those that do.</exception>
    public static T Parse<T>(string name)
        where T : struct, Enum =>
        Words<T>.Members.TryGetValue(name, out var value)
            ? value
            : throw new InvalidDataException($"\"{name}\" is not a {typeof(T).Name}; expected one of {string.Join(", ", Words<T>.Names.Values)}.");

    /// <summary>How pages show <paramref name="value"/>, e.g. "not verified" or "pre-restore".</summary>
    public static string Display<T>(T value)
        where T : struct, Enum =>
        Words<T>.Displays.TryGetValue(value, out var display) ? display : value.ToString();

    /// <summary>Stores the enum as its <see cref="Name{T}"/> (for <c>HasConversion</c>).</summary>
    public static ValueConverter<T, string> Converter<T>()
        where T : struct, Enum =>
        new(value => Name(value), name => Parse<T>(name));

    /// <summary>Their stored form in JSON (numbers are refused): put on an enum written to disk or an API.</summary>
    public sealed class Json<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false)
        where T : struct, Enum;

    private static class Words<T>
        where T : struct, Enum
    {
        public static readonly FrozenDictionary<T, string> Names =
            Enum.GetValues<T>().ToFrozenDictionary(v => v, v => JsonNamingPolicy.KebabCaseLower.ConvertName(v.ToString()));

        public static readonly FrozenDictionary<string, T> Members = Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

        public static readonly FrozenDictionary<T, string> Displays = Enum.GetValues<T>().ToFrozenDictionary(
            v => v,
            v => typeof(T).GetField(v.ToString())?.GetCustomAttribute<DisplayAttribute>()?.Name ?? Names[v]);
    }
}
