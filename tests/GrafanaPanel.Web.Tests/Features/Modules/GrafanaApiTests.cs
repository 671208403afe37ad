using System.Net;
using System.Net.Sockets;
using System.Text;
using GrafanaPanel.Web.Features.Modules;
using Microsoft.Extensions.Options;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class GrafanaApiTests
{
    private readonly StubHandler _handler = new();

    private GrafanaApi Api(GrafanaOptions options, HttpMessageHandler? handler = null) =>
        new(new HttpClient(handler ?? _handler) { BaseAddress = new Uri(options.Url + "/"), Timeout = options.RequestTimeout }, Options.Create(options));

    private static GrafanaOptions Basic => new() { Url = "http://grafana:3000", User = "admin", Password = "pw" };

    [Fact]
    public async Task Reads_use_the_token_when_one_is_set_and_admin_calls_always_use_basic_auth()
    {
        var api = Api(new GrafanaOptions { Url = "http://grafana:3000", User = "admin", Password = "pw", Token = "glsa_token" });
        _handler.Reply(HttpStatusCode.OK, "{}");
        _handler.Reply(HttpStatusCode.OK, """{"id":7,"message":"User created"}""");

        Assert.True(await api.DashboardExistsAsync("stack-health", 4, CancellationToken.None));
        Assert.Equal(7, await api.CreateUserAsync(new GrafanaNewUser("learner-01", "l@x.invalid", "Learner 01", "Pw-123456789!"), CancellationToken.None));

        var (read, create) = (_handler.Requests[0], _handler.Requests[1]);
        Assert.Equal("http://grafana:3000/api/dashboards/uid/stack-health", read.Uri);
        Assert.Equal("Bearer glsa_token", read.Authorization);
        Assert.Equal("4", read.OrgHeader);
        Assert.Equal("http://grafana:3000/api/admin/users", create.Uri);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:pw")), create.Authorization);
        Assert.Contains("\"login\":\"learner-01\"", create.Body);
    }

    [Fact]
    public async Task Admin_calls_with_only_a_token_say_that_grafana_needs_a_server_admin()
    {
        var api = Api(new GrafanaOptions { Url = "http://grafana:3000", Token = "glsa_token" });

        var ex = await Assert.ThrowsAsync<GrafanaApiException>(() => api.DeleteUserAsync(3, CancellationToken.None));

        Assert.Equal(GrafanaFailure.NotConfigured, ex.Failure);
        Assert.Contains("Grafana__User and Grafana__Password", ex.Message);
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task Without_credentials_a_read_says_which_settings_to_set()
    {
        var ex = await Assert.ThrowsAsync<GrafanaApiException>(() => Api(new GrafanaOptions()).FolderExistsAsync("module-1", null, CancellationToken.None));

        Assert.Contains("Grafana__Token", ex.Message);
        Assert.Contains("Grafana__User and Grafana__Password", ex.Message);
    }

    [Fact]
    public async Task Not_found_is_an_answer_not_an_error()
    {
        _handler.Reply(HttpStatusCode.NotFound, """{"message":"Dashboard not found"}""");

        Assert.False(await Api(Basic).DashboardExistsAsync("nope", null, CancellationToken.None));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, GrafanaFailure.Unauthorized, "Check Grafana__User and Grafana__Password")]
    [InlineData(HttpStatusCode.Forbidden, GrafanaFailure.Forbidden, "Grafana server admin")]
    [InlineData(HttpStatusCode.PreconditionFailed, GrafanaFailure.Conflict, "User already exists")]
    [InlineData(HttpStatusCode.BadRequest, GrafanaFailure.Rejected, "HTTP 400: Invalid role")]
    [InlineData(HttpStatusCode.BadGateway, GrafanaFailure.Unreachable, "failed checking data source prometheus (HTTP 502")]
    public async Task Grafana_s_refusals_become_messages_an_instructor_can_act_on(HttpStatusCode status, GrafanaFailure failure, string text)
    {
        var message = status switch
        {
            HttpStatusCode.PreconditionFailed => "User already exists",
            HttpStatusCode.BadRequest => "Invalid role",
            _ => "denied",
        };
        _handler.Reply(status, $$"""{"message":"{{message}}"}""");

        var ex = await Assert.ThrowsAsync<GrafanaApiException>(() => Api(Basic).DataSourceExistsAsync("prometheus", null, CancellationToken.None));

        Assert.Equal(failure, ex.Failure);
        Assert.Contains(text, ex.Message);
    }

    [Fact]
    public async Task A_revoked_token_is_named_as_the_setting_to_check()
    {
        _handler.Reply(HttpStatusCode.Unauthorized, """{"message":"invalid API key"}""");

        var ex = await Assert.ThrowsAsync<GrafanaApiException>(() =>
            Api(new GrafanaOptions { Url = "http://grafana:3000", Token = "glsa_old" }).DashboardExistsAsync("x", null, CancellationToken.None));

        Assert.Contains("Grafana__Token", ex.Message);
        Assert.Contains("invalid API key", ex.Message);
    }

    [Fact]
    public async Task Health_reports_a_failing_database_from_503()
    {
        _handler.Reply(HttpStatusCode.ServiceUnavailable, """{"database":"failing","version":"12.3.1"}""");

        var health = await Api(new GrafanaOptions()).GetHealthAsync(CancellationToken.None);

        Assert.False(health.DatabaseOk);
        Assert.Equal("12.3.1", health.Version);
        Assert.Null(_handler.Requests[0].Authorization);
    }

    [Fact]
    public async Task A_refused_connection_names_grafana_s_address_and_the_cause()
    {
        // A port nobody listens on: bind one, note it, close it.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = new GrafanaOptions { Url = $"http://127.0.0.1:{port}" };

        var ex = await Assert.ThrowsAsync<GrafanaApiException>(() => Api(options, new SocketsHttpHandler()).GetHealthAsync(CancellationToken.None));

        Assert.Equal(GrafanaFailure.Unreachable, ex.Failure);
        Assert.StartsWith($"Grafana at http://127.0.0.1:{port} is unreachable (the health check): ", ex.Message);
        Assert.Contains("refused", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task No_answer_in_time_names_the_timeout_setting()
    {
        _handler.Delay = TimeSpan.FromSeconds(5);
        var options = new GrafanaOptions { Url = "http://grafana:3000", RequestTimeout = TimeSpan.FromMilliseconds(100) };

        var ex = await Assert.ThrowsAsync<GrafanaApiException>(() => Api(options).GetHealthAsync(CancellationToken.None));

        Assert.Contains("did not answer the health check within 0.1 s (Grafana__RequestTimeout)", ex.Message);
    }

    [Fact]
    public async Task A_missing_user_is_null_and_an_organization_is_found_by_its_escaped_name()
    {
        _handler.Reply(HttpStatusCode.NotFound, """{"message":"user not found"}""");
        _handler.Reply(HttpStatusCode.OK, """{"id":5,"name":"Learners · Team 1"}""");

        Assert.Null(await Api(Basic).FindUserAsync(42, CancellationToken.None));
        Assert.Equal(5, await Api(Basic).FindOrgAsync("Learners · Team 1", CancellationToken.None));
        Assert.Equal("http://grafana:3000/api/orgs/name/Learners%20%C2%B7%20Team%201", _handler.Requests[1].Uri);
    }

    private sealed record Seen(string Uri, string? Authorization, string? OrgHeader, string Body);

    private sealed class StubHandler : HttpMessageHandler
    {
        private readonly Queue<(HttpStatusCode Status, string Body)> _replies = new();

        public List<Seen> Requests { get; } = [];

        public TimeSpan Delay { get; set; }

        public void Reply(HttpStatusCode status, string body) => _replies.Enqueue((status, body));

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Delay, cancellationToken);
            Requests.Add(new Seen(request.RequestUri!.AbsoluteUri, request.Headers.Authorization?.ToString(),
                request.Headers.TryGetValues("X-Grafana-Org-Id", out var org) ? org.Single() : null,
                request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken)));
            var (status, body) = _replies.Count > 0 ? _replies.Dequeue() : (HttpStatusCode.OK, "{}");
            return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json"), RequestMessage = request };
        }
    }
}
