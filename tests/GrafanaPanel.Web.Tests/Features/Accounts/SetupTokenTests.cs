using GrafanaPanel.Web.Features.Accounts;

namespace GrafanaPanel.Web.Tests.Features.Accounts;

public sealed class SetupTokenTests
{
    [Fact]
    public void A_token_is_consumed_exactly_once()
    {
        var setup = new SetupToken();
        var token = setup.Issue();

        Assert.True(setup.Matches(token));
        Assert.True(setup.TryConsume(token));
        Assert.False(setup.TryConsume(token));
        Assert.False(setup.IsActive);
    }

    [Fact]
    public void A_wrong_or_empty_token_never_matches()
    {
        var setup = new SetupToken();
        var token = setup.Issue();

        Assert.False(setup.Matches(token + "x"));
        Assert.False(setup.Matches(""));
        Assert.False(setup.Matches(null));
        Assert.False(setup.TryConsume("guess"));
        Assert.True(setup.IsActive);
    }

    [Fact]
    public void Issuing_again_invalidates_the_previous_token()
    {
        var setup = new SetupToken();
        var first = setup.Issue();
        var second = setup.Issue();

        Assert.NotEqual(first, second);
        Assert.False(setup.Matches(first));
        Assert.True(setup.Matches(second));
    }

    [Fact]
    public void Nothing_matches_before_a_token_is_issued()
    {
        Assert.False(new SetupToken().Matches("anything"));
    }
}
