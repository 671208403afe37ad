using System.ComponentModel.DataAnnotations;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>How the portal reaches Grafana and how the browser does (section <c>Grafana</c>).</summary>
public sealed class GrafanaOptions : IValidatableObject
{
    public const string Section = "Grafana";

    /// <summary>Grafana as the portal reaches it (inside the compose network: http://grafana:3000).</summary>
    public string Url { get; set; } = "http://localhost:3000";

    /// <summary>Grafana as the instructor's and learners' browsers reach it; every link is built from it.</summary>
    public string PublicUrl { get; set; } = "http://localhost:3000";

    /// <summary>Basic auth: a Grafana server admin (the stack's admin). Needed for learner accounts.</summary>
    public string User { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>A service account token (Bearer): used for readiness checks instead of basic auth when set.</summary>
    public string Token { get; set; } = "";

    /// <summary>Upper bound of one call to Grafana.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool HasBasicAuth => User.Length > 0 && Password.Length > 0;

    public bool HasToken => Token.Length > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsHttpUrl(Url))
        {
            yield return new ValidationResult(
                $"Grafana__Url '{Url}' is not an http(s) URL. Set it to Grafana as the portal reaches it, e.g. http://grafana:3000.", [nameof(Url)]);
        }

        if (!IsHttpUrl(PublicUrl))
        {
            yield return new ValidationResult(
                $"Grafana__PublicUrl '{PublicUrl}' is not an http(s) URL. Set it to Grafana as the browser reaches it, e.g. http://lab.example:3000.",
                [nameof(PublicUrl)]);
        }

        if (User.Length > 0 != Password.Length > 0)
        {
            yield return new ValidationResult(
                User.Length > 0
                    ? "Grafana__Password is empty while Grafana__User is set. Set both (a Grafana server admin), or neither."
                    : "Grafana__User is empty while Grafana__Password is set. Set both (a Grafana server admin), or neither.",
                [nameof(User), nameof(Password)]);
        }

        if (Token.Any(char.IsWhiteSpace))
        {
            yield return new ValidationResult("Grafana__Token contains white space; paste the service account token alone.", [nameof(Token)]);
        }

        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Grafana__RequestTimeout must be between 00:00:00.001 and 00:05:00.", [nameof(RequestTimeout)]);
        }
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);
}
