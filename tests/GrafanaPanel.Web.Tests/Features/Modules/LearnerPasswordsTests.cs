using GrafanaPanel.Web.Features.Modules;

namespace GrafanaPanel.Web.Tests.Features.Modules;

public sealed class LearnerPasswordsTests
{
    [Fact]
    public void Every_password_meets_grafana_s_strong_password_policy()
    {
        for (var i = 0; i < 500; i++)
        {
            var password = LearnerPasswords.Generate();

            Assert.Equal(LearnerPasswords.Length, password.Length);
            Assert.Contains(password, char.IsUpper);
            Assert.Contains(password, char.IsLower);
            Assert.Contains(password, char.IsDigit);
            Assert.Contains(password, c => !char.IsLetterOrDigit(c));
            Assert.DoesNotContain(password, c => "Il1O0 ".Contains(c));
        }
    }

    [Fact]
    public void Passwords_do_not_repeat() =>
        Assert.Equal(1000, Enumerable.Range(0, 1000).Select(_ => LearnerPasswords.Generate()).Distinct().Count());
}
