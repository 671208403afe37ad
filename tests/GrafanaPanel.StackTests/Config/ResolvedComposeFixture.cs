using System.Text.Json;
using GrafanaPanel.StackTests.Infrastructure;

namespace GrafanaPanel.StackTests.Config;

/// <summary>A service's mount as compose resolves it (<c>volumes</c>, long syntax).</summary>
public sealed record ComposeMount(string Type, string Source, string Target, bool ReadOnly);

/// <summary>
/// docker-compose.yml as docker compose resolves it with .env.example and test secrets (anchors merged, variables
/// filled in).
/// </summary>
public sealed class ResolvedComposeFixture : IAsyncLifetime
{
    public JsonElement Model { get; private set; }

    public JsonElement Services => Model.GetProperty("services");

    public JsonElement Service(string name) => Services.GetProperty(name);

    public IEnumerable<string> ServiceNames => Services.EnumerateObject().Select(p => p.Name);

    public IEnumerable<ComposeMount> Mounts(string service) =>
        Service(service).TryGetProperty("volumes", out var volumes)
            ? volumes.EnumerateArray().Select(v => new ComposeMount(
                v.GetProperty("type").GetString()!,
                v.GetProperty("source").GetString()!,
                v.GetProperty("target").GetString()!,
                v.TryGetProperty("read_only", out var ro) && ro.GetBoolean()))
            : [];

    public async ValueTask InitializeAsync() => Model = await Compose.ResolvedConfigAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
