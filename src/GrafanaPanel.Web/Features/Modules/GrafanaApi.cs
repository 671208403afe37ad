using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>Why a call to Grafana did not give an answer the portal can use.</summary>
public enum GrafanaFailure
{
    /// <summary>No connection, no answer in time, or a 5xx.</summary>
    Unreachable,

    /// <summary>The portal has no credentials for this call.</summary>
    NotConfigured,

    /// <summary>401: Grafana does not accept the credentials.</summary>
    Unauthorized,

    /// <summary>403: the credentials are valid but may not do this.</summary>
    Forbidden,

    NotFound,

    /// <summary>409/412: the name or login is taken.</summary>
    Conflict,

    /// <summary>Any other refusal (400 and the like): Grafana's message says why.</summary>
    Rejected,
}

/// <summary>A Grafana call failed; the message says what to do about it in the instructor's terms.</summary>
public sealed class GrafanaApiException(GrafanaFailure failure, string message, HttpStatusCode? status = null, Exception? inner = null)
    : PanelRefusalException(message, inner)
{
    public override int StatusCode => StatusCodes.Status502BadGateway;

    public GrafanaFailure Failure { get; } = failure;

    public HttpStatusCode? Status { get; } = status;
}

/// <summary>Grafana's <c>/api/health</c>: its version, and whether its database answers.</summary>
public sealed record GrafanaHealth(string Version, bool DatabaseOk);

/// <summary>A Grafana user as the admin API reports it.</summary>
public sealed record GrafanaUser(int Id, string Login, string Email, string Name);

/// <summary>A user to create through the admin API (the password is sent once and kept nowhere).</summary>
public sealed record GrafanaNewUser(string Login, string Email, string Name, string Password);

/// <summary>The Grafana HTTP API calls the portal makes, in the project's own terms.</summary>
public interface IGrafanaApi
{
    /// <summary>Where the portal reaches Grafana, for messages.</summary>
    string Endpoint { get; }

    Task<GrafanaHealth> GetHealthAsync(CancellationToken ct);

    Task<bool> DashboardExistsAsync(string uid, int? orgId, CancellationToken ct);

    Task<bool> FolderExistsAsync(string uid, int? orgId, CancellationToken ct);

    Task<bool> DataSourceExistsAsync(string uid, int? orgId, CancellationToken ct);

    // The calls below are Grafana's admin API: it accepts only basic auth of a Grafana server admin.
    Task<int> CreateUserAsync(GrafanaNewUser user, CancellationToken ct);

    /// <summary>The user with this id, or null when Grafana has none.</summary>
    Task<GrafanaUser?> FindUserAsync(int id, CancellationToken ct);

    Task DeleteUserAsync(int id, CancellationToken ct);

    Task<int> CreateOrgAsync(string name, CancellationToken ct);

    /// <summary>The id of the organization with this exact name, or null.</summary>
    Task<int?> FindOrgAsync(string name, CancellationToken ct);

    Task DeleteOrgAsync(int orgId, CancellationToken ct);

    Task AddOrgUserAsync(int orgId, string loginOrEmail, string role, CancellationToken ct);
}

/// <summary>
/// Grafana's HTTP API through a typed HttpClient (timeout <c>Grafana:RequestTimeout</c>). Reads use the service
/// account token when one is set, else basic auth; the admin calls always use basic auth, because Grafana's admin
/// API refuses tokens (they belong to one organization and cannot be server admins). Every failure becomes a
/// <see cref="GrafanaApiException"/> whose message names the setting or the cause.
/// </summary>
public sealed class GrafanaApi(HttpClient http, IOptions<GrafanaOptions> options) : IGrafanaApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly GrafanaOptions _options = options.Value;

    public string Endpoint => _options.Url;

    private enum Auth
    {
        /// <summary>The token when set, else basic auth.</summary>
        Reader,

        /// <summary>Basic auth of a server admin only.</summary>
        ServerAdmin,
    }

    public async Task<GrafanaHealth> GetHealthAsync(CancellationToken ct)
    {
        // Unauthenticated in Grafana; 503 means its database does not answer.
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/health");
        using var response = await SendAsync(request, "the health check", ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        var health = TryRead<HealthBody>(body);
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            return new GrafanaHealth(health?.Version ?? "", DatabaseOk: false);
        }

        await EnsureSuccessAsync(response, "the health check", ct);
        return new GrafanaHealth(health?.Version ?? "", string.Equals(health?.Database, "ok", StringComparison.OrdinalIgnoreCase));
    }

    public Task<bool> DashboardExistsAsync(string uid, int? orgId, CancellationToken ct) =>
        ExistsAsync($"api/dashboards/uid/{Uri.EscapeDataString(uid)}", orgId, $"dashboard {uid}", ct);

    public Task<bool> FolderExistsAsync(string uid, int? orgId, CancellationToken ct) =>
        ExistsAsync($"api/folders/{Uri.EscapeDataString(uid)}", orgId, $"folder {uid}", ct);

    public Task<bool> DataSourceExistsAsync(string uid, int? orgId, CancellationToken ct) =>
        ExistsAsync($"api/datasources/uid/{Uri.EscapeDataString(uid)}", orgId, $"data source {uid}", ct);

    public async Task<int> CreateUserAsync(GrafanaNewUser user, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post, "api/admin/users", Auth.ServerAdmin, null,
            new { name = user.Name, email = user.Email, login = user.Login, password = user.Password });
        var created = await ReadAsync<IdBody>(request, $"creating user {user.Login}", ct);
        return created.Id;
    }

    public async Task<GrafanaUser?> FindUserAsync(int id, CancellationToken ct) =>
        await FindAsync<UserBody>($"api/users/{id.ToString(CultureInfo.InvariantCulture)}", Auth.ServerAdmin, null, $"looking up user {id}", ct) is { } body
            ? new GrafanaUser(body.Id, body.Login ?? "", body.Email ?? "", body.Name ?? "")
            : null;

    public async Task DeleteUserAsync(int id, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Delete, $"api/admin/users/{id.ToString(CultureInfo.InvariantCulture)}", Auth.ServerAdmin);
        using var response = await SendAsync(request, $"deleting user {id}", ct);
        await EnsureSuccessAsync(response, $"deleting user {id}", ct);
    }

    public async Task<int> CreateOrgAsync(string name, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post, "api/orgs", Auth.ServerAdmin, null, new { name });
        var created = await ReadAsync<OrgCreatedBody>(request, $"creating organization {name}", ct);
        return created.OrgId;
    }

    public async Task<int?> FindOrgAsync(string name, CancellationToken ct) =>
        (await FindAsync<IdBody>($"api/orgs/name/{Uri.EscapeDataString(name)}", Auth.ServerAdmin, null, $"looking up organization {name}", ct))?.Id;

    public async Task DeleteOrgAsync(int orgId, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Delete, $"api/orgs/{orgId.ToString(CultureInfo.InvariantCulture)}", Auth.ServerAdmin);
        using var response = await SendAsync(request, $"deleting organization {orgId}", ct);
        await EnsureSuccessAsync(response, $"deleting organization {orgId}", ct);
    }

    public async Task AddOrgUserAsync(int orgId, string loginOrEmail, string role, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post, $"api/orgs/{orgId.ToString(CultureInfo.InvariantCulture)}/users", Auth.ServerAdmin, null,
            new { loginOrEmail, role });
        using var response = await SendAsync(request, $"adding {loginOrEmail} to organization {orgId}", ct);
        await EnsureSuccessAsync(response, $"adding {loginOrEmail} to organization {orgId}", ct);
    }

    private async Task<bool> ExistsAsync(string path, int? orgId, string what, CancellationToken ct) =>
        await FindAsync<AnyBody>(path, Auth.Reader, orgId, $"checking {what}", ct) is not null;

    /// <summary>A GET whose 404 means "there is none": the answer when there is one, else null.</summary>
    private async Task<T?> FindAsync<T>(string path, Auth auth, int? orgId, string what, CancellationToken ct)
        where T : class
    {
        using var request = Request(HttpMethod.Get, path, auth, orgId);
        using var response = await SendAsync(request, what, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, what, ct);
        return TryRead<T>(await response.Content.ReadAsStringAsync(ct))
            ?? throw new GrafanaApiException(GrafanaFailure.Rejected, $"Grafana answered {what} with something that is not the expected JSON.");
    }

    private HttpRequestMessage Request(HttpMethod method, string path, Auth auth, int? orgId = null, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Authorization = auth == Auth.Reader && _options.HasToken
            ? new AuthenticationHeaderValue("Bearer", _options.Token)
            : _options.HasBasicAuth
                ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.User}:{_options.Password}")))
                : throw new GrafanaApiException(GrafanaFailure.NotConfigured, auth == Auth.ServerAdmin
                    ? "This needs a Grafana server admin: set Grafana__User and Grafana__Password (Grafana's admin API does not accept service account tokens)."
                    : "The portal has no Grafana credentials: set Grafana__Token (a service account token), or Grafana__User and Grafana__Password.");
        if (orgId is { } org)
        {
            request.Headers.Add("X-Grafana-Org-Id", org.ToString(CultureInfo.InvariantCulture));
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        return request;
    }

    private async Task<T> ReadAsync<T>(HttpRequestMessage request, string what, CancellationToken ct)
    {
        using var response = await SendAsync(request, what, ct);
        await EnsureSuccessAsync(response, what, ct);
        return TryRead<T>(await response.Content.ReadAsStringAsync(ct))
            ?? throw new GrafanaApiException(GrafanaFailure.Rejected, $"Grafana answered {what} with something that is not the expected JSON.");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = "failure";
        try
        {
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            outcome = response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound ? "success" : "failure";
            return response;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            outcome = "cancelled";
            throw;
        }
        catch (HttpRequestException ex)
        {
            throw new GrafanaApiException(GrafanaFailure.Unreachable, $"Grafana at {Endpoint} is unreachable ({what}): {Reason(ex)}", null, ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new GrafanaApiException(GrafanaFailure.Unreachable,
                $"Grafana at {Endpoint} did not answer {what} within {http.Timeout.TotalSeconds:0.#} s (Grafana__RequestTimeout).", null, ex);
        }
        finally
        {
            GrafanaPanel.Web.Telemetry.PanelTelemetry.GrafanaCallDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("operation", OperationOf(request)), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>"GET /api/users": the method and the API's first two path segments, never an id or a query.</summary>
    public static string OperationOf(HttpRequestMessage request)
    {
        var path = request.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath : request.RequestUri?.OriginalString.Split('?')[0] ?? "";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Take(2);
        return $"{request.Method.Method} /{string.Join('/', segments)}";
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = response.StatusCode;
        var message = TryRead<MessageBody>(await response.Content.ReadAsStringAsync(ct))?.Message;
        var said = string.IsNullOrWhiteSpace(message) ? "" : $": {message}";
        var code = (int)status;
        throw status switch
        {
            HttpStatusCode.Unauthorized => new GrafanaApiException(GrafanaFailure.Unauthorized,
                $"Grafana refused the portal's credentials ({what}, HTTP 401{said}). Check " +
                (_options.HasToken && response.RequestMessage?.Headers.Authorization?.Scheme == "Bearer"
                    ? "Grafana__Token (the service account token may be revoked or expired)."
                    : "Grafana__User and Grafana__Password (after the first start Grafana keeps its own admin password)."), status),
            HttpStatusCode.Forbidden => new GrafanaApiException(GrafanaFailure.Forbidden,
                $"Grafana does not let the portal's account do this ({what}, HTTP 403{said}). It needs a Grafana server admin " +
                "(Grafana__User), or a service account with the Admin role (Grafana__Token).", status),
            HttpStatusCode.NotFound => new GrafanaApiException(GrafanaFailure.NotFound, $"Grafana has no such thing ({what}, HTTP 404{said}).", status),
            HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed => new GrafanaApiException(GrafanaFailure.Conflict,
                $"Grafana refused {what}: {(string.IsNullOrWhiteSpace(message) ? "it exists already" : message)} (HTTP {code}).", status),
            >= HttpStatusCode.InternalServerError => new GrafanaApiException(GrafanaFailure.Unreachable,
                $"Grafana at {Endpoint} failed {what} (HTTP {code}{said}).", status),
            _ => new GrafanaApiException(GrafanaFailure.Rejected, $"Grafana refused {what} (HTTP {code}{said}).", status),
        };
    }

    /// <summary>The innermost cause is what an instructor can act on ("Connection refused", a name that does not resolve).</summary>
    private static string Reason(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner.Message;
    }

    private static T? TryRead<T>(string body)
    {
        try
        {
            return string.IsNullOrWhiteSpace(body) ? default : JsonSerializer.Deserialize<T>(body, Json);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private sealed record HealthBody(string? Database, string? Version);

    private sealed record MessageBody(string? Message);

    /// <summary>Any JSON object: only its presence matters.</summary>
    private sealed record AnyBody;

    private sealed record IdBody(int Id);

    private sealed record OrgCreatedBody([property: JsonPropertyName("orgId")] int OrgId);

    private sealed record UserBody(int Id, string? Login, string? Email, string? Name);
}
