using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>The document's title, and the bearer token every <c>/api/v1</c> call takes.</summary>
public sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string BearerScheme = "Bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "GrafanaPanel API",
            Version = "v1",
            Description = "Everything the portal's pages do. Authenticate with a personal access token from your profile page " +
                "(Authorization: Bearer gp_…). Errors are RFC 9457 problem details.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A personal access token (gp_…) created on the profile page.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] });
        return Task.CompletedTask;
    }
}
