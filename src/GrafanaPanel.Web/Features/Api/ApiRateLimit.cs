using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace GrafanaPanel.Web.Features.Api;

/// <summary>The authentication scheme every request starts with: it picks the cookie, or a token on <c>/api/v1</c>.</summary>
public static class ApiAuthentication
{
    public const string Scheme = "Panel";
}

/// <summary>429 with <c>Retry-After</c> and a problem for an API call over its token's limit.</summary>
public static class ApiRateLimit
{
    public static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? (int)Math.Ceiling(retryAfter.TotalSeconds)
            : 60;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var problem = TypedResults.Problem(
            $"This call is limited per token (it walks every volume). Try again in {seconds} s.",
            statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
            extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = seconds });
        await problem.ExecuteAsync(http);
    }
}
