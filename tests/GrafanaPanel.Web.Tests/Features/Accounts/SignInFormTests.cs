using GrafanaPanel.Web.Features.Accounts;

namespace GrafanaPanel.Web.Tests.Features.Accounts;

public sealed class SignInFormTests
{
    [Fact]
    public void An_empty_form_names_both_missing_fields()
    {
        var errors = FormValidation.Validate(new SignInForm());

        Assert.Contains("Enter your e-mail address.", errors);
        Assert.Contains("Enter your password.", errors);
    }

    [Fact]
    public void A_malformed_email_is_named()
    {
        var errors = FormValidation.Validate(new SignInForm { Email = "not-an-address", Password = "x" });

        Assert.Equal(["Enter a valid e-mail address."], errors);
    }

    [Fact]
    public void A_complete_form_is_valid()
    {
        Assert.Empty(FormValidation.Validate(new SignInForm { Email = "a@b.example", Password = "secret" }));
    }

    [Fact]
    public void Setup_refuses_two_different_passwords()
    {
        var errors = FormValidation.Validate(new SetupForm
        {
            Token = "t", Email = "a@b.example", Password = "One-Password-1", ConfirmPassword = "Other-Password-1",
        });

        Assert.Equal(["The two passwords differ."], errors);
    }

    [Theory]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("https://evil.example", "/")]
    [InlineData("//evil.example/x", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("javascript:alert(1)", "/")]
    [InlineData("/ok\r\nSet-Cookie: x", "/")]
    [InlineData("/admin/users?tab=2", "/admin/users?tab=2")]
    public void Return_urls_stay_on_this_site(string? returnUrl, string expected)
    {
        Assert.Equal(expected, SignInEndpoints.SafeReturnUrl(returnUrl));
    }
}
