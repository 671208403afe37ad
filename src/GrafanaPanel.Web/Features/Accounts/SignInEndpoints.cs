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
    [Required(ErrorMessage = "The setup token is missing: open the link from the portal's log.")]
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

        if (result.IsLockedOut)
        {
            log.LogWarning("Sign-in refused for {Email}: account locked", form.Email);
            return BackToLogin("This account is locked after too many failed attempts. Try again later or ask an Admin to unlock it.", form.Email, returnUrl);
        }

        log.LogWarning("Sign-in failed for {Email}", form.Email);
        return BackToLogin("Wrong e-mail or password.", form.Email, returnUrl);
    }

    public static async Task<IResult> SetupAsync(
        [FromForm] SetupForm form,
        [FromServices] SetupToken setupToken,
        [FromServices] AdminBootstrapper bootstrapper,
        [FromServices] UserManager<PanelUser> users,
        [FromServices] SignInManager<PanelUser> signIn)
    {
        // One setup at a time, so two racing requests cannot both create an Admin.
        using var held = await setupToken.HoldAsync();
        if (!setupToken.Matches(form.Token) || await users.Users.AnyAsync())
        {
            return Results.Redirect($"/account/setup?error={Uri.EscapeDataString("This setup link is not valid any more. Sign in, or restart the portal for a new link if no Admin exists.")}");
        }

        var errors = FormValidation.Validate(form);
        if (errors.Count == 0)
        {
            var created = await bootstrapper.CreateAdminAsync(form.Email!, form.Password!);
            if (created.Succeeded && setupToken.TryConsume(form.Token))
            {
                var user = await users.FindByEmailAsync(form.Email!);
                await signIn.SignInAsync(user!, isPersistent: false);
                return Results.LocalRedirect("/");
            }

            errors = [AdminBootstrapper.Describe(created)];
        }

        return Results.Redirect($"/account/setup?token={Uri.EscapeDataString(form.Token ?? "")}&email={Uri.EscapeDataString(form.Email ?? "")}&error={Uri.EscapeDataString(errors[0])}");
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
