using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>Where the versioned API lives.</summary>
public static class ApiRoutes
{
    public const string Prefix = "/api/v1";

    public static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments(Prefix);
}

/// <summary>
/// RFC 9457 problem details for the API's refusals: 400 naming the field, 403 naming the role needed, 404, 409 naming
/// the job that holds the stack, 413 for an oversize upload. The detail is the refusal's own message, as the page shows it.
/// </summary>
public static class ApiProblems
{
    /// <summary>400 for one input: <c>errors: { field: [reason] }</c> and the reason as the detail.</summary>
    /// <remarks>
    /// The role comes first: an action's endpoint checks its fields only for a caller who holds the action's role
    /// (<c>if (await gate.AllowsAsync(role) &amp;&amp; FirstBadField(body) is { } problem)</c>). Any other caller goes on to
    /// the service, whose role check refuses (403 with <c>requiredRole</c>) and audits the refusal whatever the body, so
    /// what it is given then must be safe to describe in the audit entry: empty, never null.
    /// </remarks>
    public static ValidationProblem Field(string field, string reason) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [reason] }, detail: reason, title: $"Invalid {field}");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    /// <summary>The problem for a refusal a service raised, with what a script needs to act on it.</summary>
    /// <param name="stackHolder">The job holding the stack lock now, named in a 409 that is not a <see cref="StackBusyException"/> itself.</param>
    public static IResult From(PanelRefusalException refusal, string? stackHolder = null)
    {
        switch (refusal)
        {
            case AccessTokenRefusedException { StatusCode: StatusCodes.Status400BadRequest } field:
                return Field(field.Field, field.Message);
            case PanelAccessDeniedException denied:
                return TypedResults.Problem(denied.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                    extensions: denied.RequiredRole is { } role ? new Dictionary<string, object?> { ["requiredRole"] = role } : null);
            case StackBusyException busy:
                return TypedResults.Problem(busy.Message, statusCode: StatusCodes.Status409Conflict, title: "The stack is busy",
                    extensions: new Dictionary<string, object?> { ["runningJob"] = busy.Running });
            case { StatusCode: StatusCodes.Status409Conflict }:
                return TypedResults.Problem(refusal.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                    extensions: stackHolder is null ? null : new Dictionary<string, object?> { ["runningJob"] = stackHolder });
            default:
                return TypedResults.Problem(refusal.Message, statusCode: refusal.StatusCode, title: TitleOf(refusal.StatusCode));
        }
    }

    private static string TitleOf(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "Refused",
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status409Conflict => "Conflict",
        StatusCodes.Status413PayloadTooLarge => "Too large",
        StatusCodes.Status502BadGateway => "Upstream failed",
        StatusCodes.Status503ServiceUnavailable => "Unavailable",
        _ => "Refused",
    };
}

/// <summary>
/// Every <c>/api/v1</c> endpoint runs the pages' own services as the request's user (token or cookie): the request's
/// principal becomes the authentication state that their <see cref="RoleGate"/> reads, as a circuit's does. Every
/// refusal becomes its problem (one place, so no endpoint forgets).
/// </summary>
public sealed class ApiRequestFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.RequestServices.GetService<AuthenticationStateProvider>() is IHostEnvironmentAuthenticationStateProvider state)
        {
            state.SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
        }

        try
        {
            return await next(context);
        }
        catch (PanelRefusalException refusal)
        {
            return ApiProblems.From(refusal, http.RequestServices.GetService<StackLock>()?.Holder);
        }
    }
}
