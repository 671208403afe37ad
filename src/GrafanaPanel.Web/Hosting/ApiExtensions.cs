using System.Threading.RateLimiting;
using GrafanaPanel.Web.Features.Api;
using GrafanaPanel.Web.Features.Audit;
using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Modules;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Stack;
using GrafanaPanel.Web.Features.Accounts;
using Scalar.AspNetCore;

namespace GrafanaPanel.Web.Hosting;

/// <summary>
/// The versioned HTTP API (<c>/api/v1</c>): personal access tokens, problem details for every refusal, per-token rate
/// limits for expensive calls, and its OpenAPI document with a reference page. The endpoints live with their features.
/// </summary>
public static class ApiExtensions
{
    public const string OpenApiDocument = "v1";
    public const string OpenApiPath = "/openapi/v1.json";
    public const string ReferencePath = "/api/reference";

    public static void AddPanelApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<AccessTokens>();
        services.AddProblemDetails();
        // Enums as their stored names in every JSON answer (a script compares "ready-with-warnings", not 1).
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.KebabCaseLower)));
        services.AddOpenApi(OpenApiDocument, options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer<ApiDocumentTransformer>();
        });

        var api = builder.Configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new();
        services.Configure<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>(options =>
            // Per token (or per signed-in user, for a browser's session): measure-now and verify-all walk every volume.
            // Each expensive call has its own budget per caller.
            options.AddPolicy(ApiOptions.ExpensivePolicy, http => RateLimitPartition.GetFixedWindowLimiter(
                (http.GetEndpoint()?.DisplayName ?? http.Request.Path.Value) + "|" +
                (http.User.FindFirst(AccessTokenAuthenticationHandler.TokenIdClaim)?.Value
                    ?? http.User.Identity?.Name
                    ?? http.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
                _ => new FixedWindowRateLimiterOptions { PermitLimit = api.ExpensiveCallsPerWindow, Window = api.ExpensiveWindow, QueueLimit = 0 })));
    }

    /// <summary>Problem details for <c>/api/v1</c>'s own failures (exceptions, 401/403/404/405 without a body).</summary>
    public static void UsePanelApiProblems(this WebApplication app) =>
        app.UseWhen(http => ApiRoutes.IsApi(http.Request), api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
        });

    public static void MapPanelApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").RequireAuthorization();
        app.MapScalarApiReference(ReferencePath, options => options
                .WithTitle("GrafanaPanel API")
                .WithOpenApiRoutePattern(OpenApiPath)
                .DisableDefaultFonts()
                .DisableTelemetry())
            .RequireAuthorization();

        var v1 = app.MapGroup(ApiRoutes.Prefix)
            .RequireAuthorization()
            .DisableAntiforgery()
            .AddEndpointFilter<ApiRequestFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        v1.MapAccessTokenEndpoints();
        v1.MapStackApi();
        v1.MapModulesApi();
        v1.MapAuditApi();
        v1.MapUsersApi();
        v1.MapBackupsApi();
        v1.MapResetsApi();
        v1.MapOperationEndpoints();
    }
}
