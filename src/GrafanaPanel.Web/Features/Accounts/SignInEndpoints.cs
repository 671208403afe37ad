using System.ComponentModel.DataAnnotations;
using GrafanaPanel.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>What the sign-in form posts.</summary>
public sealed class SignInForm
{
    [Required(ErrorMessage = "Enter your e-mail address.")]
    [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
    public string? Email { get; set; }

    [Required(ErrorMessage = "Enter your password.")]
    public string? Password { get; set; }

    public bool RememberMe { get; set; }

    public string? ReturnUrl { get; set; }
}

/// <summary>What the first-Admin setup form posts.</summary>
public sealed class SetupForm
{
    [Required(ErrorMessage = "The setup token is missing: open the link that the setup-link command printed on the host.")]
    public string? Token { get; set; }

    [Required(ErrorMessage = "Enter the Admin's e-mail address.")]
    [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
    public string? Email { get; set; }

    [Required(ErrorMessage = "Enter a password.")]
    public string? Password { get; set; }

    [Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
    public string? ConfirmPassword { get; set; }
}

public static class FormValidation
{
    /// <summary>All DataAnnotations errors of a form, in declaration order; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(object form)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(form, new ValidationContext(form), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "Invalid input.").ToList();
    }
}

public static class SignInEndpoints
{
    public const string FailedSignInMessage =
        "Wrong e-mail or password, or the account is locked after too many failed attempts. " +
        "Try again in a few minutes, or ask an Admin to check your account.";

    public static async Task<IResult> SignInAsync(
        [FromForm] SignInForm form,
        [FromServices] SignInManager<PanelUser> signIn,
        [FromServices] ILoggerFactory loggers)
    {
        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        var errors = FormValidation.Validate(form);
        if (errors.Count > 0)
        {
            return BackToLogin(errors[0], form.Email, returnUrl);
        }

        var result = await signIn.PasswordSignInAsync(form.Email!, form.Password!, form.RememberMe, lockoutOnFailure: true);
        var log = loggers.CreateLogger("GrafanaPanel.SignIn");
        if (result.Succeeded)
        {
            log.LogInformation("{Email} signed in", form.Email);
            return Results.LocalRedirect(returnUrl);
        }

        // One message for a wrong password and a locked account, so the form does not tell which accounts exist or are locked.
        if (result.IsLockedOut)
        {
            log.LogWarning("Sign-in refused for {Email}: account locked", form.Email);
        }
        else
        {
            log.LogWarning("Sign-in failed for {Email}", form.Email);
        }

        return BackToLogin(FailedSignInMessage, form.Email, returnUrl);
    }

    public static async Task<IResult> SetupAsync(
        [FromForm] SetupForm form,
        [FromServices] SetupLinks setupLinks,
        [FromServices] AdminBootstrapper bootstrapper,
        [FromServices] UserManager<PanelUser> users,
        [FromServices] SignInManager<PanelUser> signIn,
        CancellationToken ct)
    {
        var errors = FormValidation.Validate(form);
        var (state, created) = await setupLinks.RedeemAsync(
            form.Token,
            () => errors.Count > 0
                ? Task.FromResult(IdentityResult.Failed(new IdentityError { Code = "Form", Description = errors[0] }))
                : bootstrapper.CreateAdminAsync(form.Email!, form.Password!),
            ct);
        if (state != SetupLinkState.Valid)
        {
            return Results.Redirect($"{SetupLinks.SetupPath}?state={state}");
        }

        if (created!.Succeeded)
        {
            var user = await users.FindByEmailAsync(form.Email!);
            await signIn.SignInAsync(user!, isPersistent: false);
            return Results.LocalRedirect("/");
        }

        return Results.Redirect($"{SetupLinks.SetupPath}?token={Uri.EscapeDataString(form.Token ?? "")}&email={Uri.EscapeDataString(form.Email ?? "")}&error={Uri.EscapeDataString(AdminBootstrapper.Describe(created))}");
    }

    public static async Task<IResult> SignOutAsync([FromServices] SignInManager<PanelUser> signIn)
    {
        await signIn.SignOutAsync();
        return Results.LocalRedirect("/account/login");
    }

    /// <summary>Only local paths are followed after sign-in; anything else (other hosts, //x, /\x) goes home.</summary>
    public static string SafeReturnUrl(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl[0] != '/')
        {
            return "/";
        }

        if (returnUrl.Length > 1 && (returnUrl[1] == '/' || returnUrl[1] == '\\'))
        {
            return "/";
        }

        return returnUrl.Any(char.IsControl) ? "/" : returnUrl;
    }

    private static IResult BackToLogin(string error, string? email, string returnUrl) =>
        Results.Redirect($"/account/login?error={Uri.EscapeDataString(error)}&email={Uri.EscapeDataString(email ?? "")}&returnUrl={Uri.EscapeDataString(returnUrl)}");
}
