using System.Reflection;

namespace GrafanaPanel.Web.Tests.Docker;

/// <summary>Docker.DotNet stays behind the Docker folder: no public or internal signature elsewhere mentions it.</summary>
public sealed class BoundaryTests
{
    [Fact]
    public void No_type_outside_the_Docker_folder_exposes_a_Docker_DotNet_type()
    {
        var offenders = new List<string>();
        var types = typeof(GrafanaPanel.Web.Docker.IDockerEngine).Assembly.GetTypes()
            .Where(t => t.Namespace?.StartsWith("GrafanaPanel.Web.Docker", StringComparison.Ordinal) != true);
        foreach (var type in types)
        {
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var signatures = type.GetMethods(all).SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType))
                .Concat(type.GetProperties(all).Select(p => p.PropertyType))
                .Concat(type.GetFields(all).Select(f => f.FieldType))
                .Concat(type.GetConstructors(all).SelectMany(c => c.GetParameters().Select(p => p.ParameterType)));
            offenders.AddRange(signatures.Where(MentionsDockerDotNet).Select(t => $"{type.FullName} uses {t.FullName}"));
        }

        Assert.Empty(offenders.Distinct());
    }

    [Fact]
    public void The_public_engine_records_are_the_projects_own()
    {
        var engine = typeof(GrafanaPanel.Web.Docker.IDockerEngine);
        var used = engine.GetMethods().SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType));

        Assert.DoesNotContain(used, MentionsDockerDotNet);
    }

    private static bool MentionsDockerDotNet(Type type) =>
        type.Assembly.GetName().Name == "Docker.DotNet"
        || (type.IsGenericType && type.GetGenericArguments().Any(MentionsDockerDotNet))
        || (type.HasElementType && MentionsDockerDotNet(type.GetElementType()!));
}
