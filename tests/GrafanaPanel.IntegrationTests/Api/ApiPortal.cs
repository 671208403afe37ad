using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using GrafanaPanel.IntegrationTests.Infrastructure;
using GrafanaPanel.Web.Data;
using GrafanaPanel.Web.Features.Api;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GrafanaPanel.IntegrationTests.Api;

/// <summary>The real portal (in-process, real PostgreSQL and Docker) with helpers to act through the API as a role.</summary>
public sealed class ApiPortal : PanelAppFactory
{
    public const int ExpensiveCalls = 2;

    public ApiPortal()
    {
        With("Panel:Api:ExpensiveCallsPerWindow", ExpensiveCalls.ToString(System.Globalization.CultureInfo.InvariantCulture));
        With("Panel:Api:ExpensiveWindow", "00:10:00");
    }

    /// <summary>A new user of <paramref name="role"/> and a token of <paramref name="scope"/> (default: the role), created as the profile page does.</summary>
    public async Task<(PanelUser User, string Secret, Guid TokenId)> TokenAsync(string role, string? scope = null, int days = 30)
    {
        await WaitUntilDatabaseReadyAsync();
        var user = await TestAccounts.CreateAsync(Services, $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@panel.test", role);
        var created = await (await TokensOfAsync(user)).CreateAsync($"script-{Guid.NewGuid():N}"[..20], scope ?? role, days);
        KnownSecrets.Add(created.Secret);
        return (user, created.Secret, created.Token.Id);
    }

    /// <summary>The token service as <paramref name="user"/>'s profile page calls it.</summary>
    public async Task<AccessTokens> TokensOfAsync(PanelUser user)
    {
        var principal = await TestAccounts.PrincipalAsync(Services, user);
        return new AccessTokens(Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(), TestAccounts.GateFor(Services, principal),
            Services.GetRequiredService<Web.Features.Audit.IAuditLog>(), TimeProvider.System);
    }

    /// <summary>A client that sends only the bearer token (no cookies), as curl does.</summary>
    public HttpClient BearerClient(string? secret)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (secret is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }

        return client;
    }

    public async Task<T> DbAsync<T>(Func<PanelDbContext, Task<T>> query)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    /// <summary>The response as a problem document (asserts the content type).</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
