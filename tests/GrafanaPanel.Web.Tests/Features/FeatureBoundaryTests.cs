using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Tests.Features;

/// <summary>
/// Backups know nothing of resets, and resets reach backups only through interfaces (and the catalog's data: entities,
/// records, enums, exceptions), so the volume work can grow (remote destinations, more machines) without pulling both.
/// </summary>
public sealed class FeatureBoundaryTests
{
    private const string BackupsNamespace = "GrafanaPanel.Web.Features.Backups";
    private const string ResetsNamespace = "GrafanaPanel.Web.Features.Resets";

    private static readonly Type[] PortalTypes = typeof(PanelDbContext).Assembly.GetTypes();

    private static readonly Regex EnumMember = new(@"^\s*\w+\s*(=\s*\w+)?,?\s*$", RegexOptions.CultureInvariant);

    [Fact]
    public void No_file_of_the_backups_feature_names_a_type_of_the_resets_feature()
    {
        var resetTypes = NamedTypesIn(ResetsNamespace).Select(t => t.Name).ToList();
        Assert.NotEmpty(resetTypes);
        var named = new Regex($@"(?<![.\w])({string.Join("|", resetTypes.Select(Regex.Escape))})\b|Features\.Resets", RegexOptions.CultureInvariant);

        var offenders = SourceFiles("Backups")
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, i)))
            // An enum member alone on its line (BackupTrigger.Baseline) is the backups' own word, not the reset type.
            .Where(x => !x.line.TrimStart().StartsWith("//", StringComparison.Ordinal) && !EnumMember.IsMatch(x.line) && named.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(RepositoryFiles.Root, x.file)}:{x.i + 1}: {named.Match(x.line).Value}")
            .ToList();

        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public void The_resets_feature_is_given_backups_services_only_as_interfaces()
    {
        var offenders = new List<string>();
        foreach (var type in NamedTypesIn(ResetsNamespace))
        {
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly;
            var injected = type.GetConstructors(all).SelectMany(c => c.GetParameters()).Select(p => (p.Name, p.ParameterType))
                .Concat(type.GetProperties(all).Where(p => p.GetCustomAttribute<InjectAttribute>() is not null).Select(p => ((string?)p.Name, p.PropertyType)));
            offenders.AddRange(injected.Where(p => IsBackupsService(p.Item2)).Select(p => $"{type.Name} is given {p.Item2.Name} ({p.Item1})"));
        }

        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public void No_file_of_the_resets_feature_names_a_backups_service_class()
    {
        var services = NamedTypesIn(BackupsNamespace).Where(IsBackupsService).Select(t => t.Name).ToList();
        Assert.Contains("BackupRunner", services);
        var named = new Regex($@"\b({string.Join("|", services.Select(Regex.Escape))})\b", RegexOptions.CultureInvariant);

        var offenders = SourceFiles("Resets")
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, i)))
            .Where(x => !x.line.TrimStart().StartsWith("//", StringComparison.Ordinal) && !x.line.TrimStart().StartsWith("///", StringComparison.Ordinal)
                && named.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(RepositoryFiles.Root, x.file)}:{x.i + 1}: {named.Match(x.line).Value}")
            .ToList();

        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }

    /// <summary>A class of the backups feature that does work (not an interface, entity, record, enum, exception or options).</summary>
    private static bool IsBackupsService(Type type)
    {
        if (type.Namespace?.StartsWith(BackupsNamespace, StringComparison.Ordinal) != true || !type.IsClass || type.IsAbstract && type.IsSealed)
        {
            return false;
        }

        var entities = typeof(PanelDbContext).GetProperties().Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(DbSet<>))
            .Select(p => p.PropertyType.GetGenericArguments()[0]);
        var isRecord = type.GetProperty("EqualityContract", BindingFlags.NonPublic | BindingFlags.Instance) is not null;
        return !isRecord && !typeof(Exception).IsAssignableFrom(type) && !entities.Contains(type) && !type.Name.EndsWith("Options", StringComparison.Ordinal)
            && type.GetCustomAttribute<CompilerGeneratedAttribute>() is null && type.DeclaringType is null;
    }

    private static IEnumerable<Type> NamedTypesIn(string ns) =>
        PortalTypes.Where(t => t.Namespace?.StartsWith(ns, StringComparison.Ordinal) == true && !t.Name.Contains('<', StringComparison.Ordinal) && !t.IsNested
            && t.GetCustomAttribute<CompilerGeneratedAttribute>() is null);

    private static IEnumerable<string> SourceFiles(string feature) =>
        Directory.EnumerateFiles(RepositoryFiles.PathOf("src", "GrafanaPanel.Web", "Features", feature), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal));
}
