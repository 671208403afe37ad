using System.ComponentModel.DataAnnotations;
using GrafanaPanel.Web.Features.Modules;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class GrafanaOptionsTests
{
    private static List<string> Problems(GrafanaOptions options) =>
        options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage!).ToList();

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(Problems(new GrafanaOptions()));

    [Theory]
    [InlineData("grafana:3000", "Grafana__Url")]
    [InlineData("ftp://grafana", "Grafana__Url")]
    [InlineData("http://grafana:3000/?x=1", "Grafana__Url")]
    public void A_url_that_is_not_http_names_the_variable(string url, string variable) =>
        Assert.StartsWith(variable, Assert.Single(Problems(new GrafanaOptions { Url = url })));

    [Fact]
    public void A_public_url_that_is_not_http_names_the_variable() =>
        Assert.StartsWith("Grafana__PublicUrl", Assert.Single(Problems(new GrafanaOptions { PublicUrl = "/grafana" })));

    [Fact]
    public void A_user_without_a_password_names_the_missing_one()
    {
        Assert.StartsWith("Grafana__Password is empty", Assert.Single(Problems(new GrafanaOptions { User = "admin" })));
        Assert.StartsWith("Grafana__User is empty", Assert.Single(Problems(new GrafanaOptions { Password = "x" })));
    }

    [Fact]
    public void A_token_with_white_space_and_a_zero_timeout_are_refused()
    {
        Assert.StartsWith("Grafana__Token", Assert.Single(Problems(new GrafanaOptions { Token = "glsa_abc def" })));
        Assert.StartsWith("Grafana__RequestTimeout", Assert.Single(Problems(new GrafanaOptions { RequestTimeout = TimeSpan.Zero })));
    }
}
