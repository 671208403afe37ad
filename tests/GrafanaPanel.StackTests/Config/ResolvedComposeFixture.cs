using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

/// <summary>docker-compose.yml as docker compose resolves it with .env.example (anchors merged, variables filled in).</summary>
public sealed class ResolvedComposeFixture : IAsyncLifetime
{
    public JsonElement Model { get; private set; }

    public JsonElement Services => Model.GetProperty("services");

    public JsonElement Service(string name) => Services.GetProperty(name);

    public IEnumerable<string> ServiceNames => Services.EnumerateObject().Select(p => p.Name);

    public async Task InitializeAsync() => Model = await Compose.ResolvedConfigAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}
