using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>Which compose project the portal manages (section <c>Stack</c>).</summary>
public sealed class StackOptions
{
    public const string Section = "Stack";

    /// <summary>The compose project name (label <c>com.docker.compose.project</c>).</summary>
    [Required(ErrorMessage = "Stack__ProjectName is required: the compose project the portal manages.")]
    [RegularExpression("^[a-z0-9][a-z0-9_-]*$", ErrorMessage = "Stack__ProjectName must be a compose project name: lower-case letters, digits, '-' and '_'.")]
    public string ProjectName { get; set; } = "grafana-training";

    /// <summary>Host name used to build links to published ports, as the instructor's browser reaches them.</summary>
    public string PublicHost { get; set; } = "localhost";
}
