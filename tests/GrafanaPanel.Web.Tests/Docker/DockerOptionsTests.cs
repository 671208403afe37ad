using System.ComponentModel.DataAnnotations;
using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Tests.Docker;

public sealed class DockerOptionsTests
{
    [Theory]
    [InlineData("unix:///var/run/docker.sock")]
    [InlineData("tcp://10.0.0.5:2375")]
    public void Unix_and_tcp_endpoints_are_accepted(string endpoint)
    {
        Assert.Empty(Validate(new DockerOptions { Endpoint = endpoint }));
    }

    [Theory]
    [InlineData("/var/run/docker.sock")]
    [InlineData("ftp://host")]
    [InlineData("")]
    public void Other_endpoints_are_refused_with_what_to_set(string endpoint)
    {
        var error = Assert.Single(Validate(new DockerOptions { Endpoint = endpoint }));
        Assert.Contains("Docker__Endpoint", error.ErrorMessage);
        Assert.Contains("unix:///var/run/docker.sock", error.ErrorMessage);
    }

    [Fact]
    public async Task An_unreachable_engine_is_reported_with_its_endpoint()
    {
        using var engine = new DockerEngine(Microsoft.Extensions.Options.Options.Create(new DockerOptions
        {
            Endpoint = "unix:///tmp/grafanapanel-no-such.sock",
            RequestTimeout = TimeSpan.FromSeconds(2),
        }));

        var error = await Assert.ThrowsAsync<DockerUnavailableException>(() => engine.GetInfoAsync(CancellationToken.None));

        Assert.Contains("unix:///tmp/grafanapanel-no-such.sock", error.Message);
    }

    private static List<ValidationResult> Validate(DockerOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
