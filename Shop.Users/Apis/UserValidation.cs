using System.Net.Mail;
using Shop.Users.Data;
using Shop.Users.Services;

namespace Shop.Users.Apis;

/// <summary>The field rules of every Users request, checked at the edge before any service runs.</summary>
internal static class UserValidation
{
    public const int NameMax = 100;
    public const int EmailMax = 254;

    public static ValidationErrors Register(RegisterRequest request)
    {
        var errors = new ValidationErrors();
        errors.RequireString("name", request.Name, NameMax);
        Email(errors, request.Email);
        Password(errors, request.Password);
        return errors;
    }

    /// <summary>Only presence and the length cap: a sign-in never tells which passwords could exist.</summary>
    public static ValidationErrors Login(LoginRequest request)
    {
        var errors = new ValidationErrors();
        errors.RequireString("email", request.Email, EmailMax);
        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "This field is required.");
        }
        else if (request.Password.Length > PasswordService.MaxLength)
        {
            errors.Add("password", $"Must be at most {PasswordService.MaxLength} characters.");
        }
        return errors;
    }

    /// <param name="isSelf">The account changes itself: changing its email or password then needs <c>current_password</c>.</param>
    public static ValidationErrors Update(UpdateUserRequest request, bool isSelf)
    {
        var errors = new ValidationErrors();
        if (request.Name is not null)
        {
            errors.RequireString("name", request.Name, NameMax);
        }
        if (request.Email is not null)
        {
            Email(errors, request.Email);
        }
        if (request.Password is not null)
        {
            Password(errors, request.Password);
        }
        if (isSelf && (request.Password is not null || request.Email is not null) && string.IsNullOrEmpty(request.CurrentPassword))
        {
            errors.Add("current_password", "Required to change your email or password.");
        }
        else if (request.CurrentPassword is { Length: > PasswordService.MaxLength })
        {
            // No password is longer, and a long one would only cost a hash.
            errors.Add("current_password", $"Must be at most {PasswordService.MaxLength} characters.");
        }
        if (request.Role is not null && !Roles.All.Contains(request.Role))
        {
            errors.Add("role", "Must be one of: user, admin.");
        }
        return errors;
    }

    private static void Email(ValidationErrors errors, string? email)
    {
        errors.RequireString("email", email, EmailMax);
        if (string.IsNullOrWhiteSpace(email) || ValidationErrors.Characters(email.Trim()) > EmailMax)
        {
            return;
        }
        var trimmed = email.Trim();
        if (!MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed || !parsed.Host.Contains('.'))
        {
            errors.Add("email", "Must be a valid email address.");
        }
        else if (parsed.Host.EndsWith('.') || trimmed.Any(Invisible))
        {
            // Each would be a second account that reads as the first one: "a@b.co" and "a@b.co." (the DNS root) or
            // "a@b.co" with a zero-width space, which an admin's user list shows alike.
            errors.Add("email", "Must be a valid email address, without a trailing dot or invisible characters (such as a zero-width space).");
        }
    }

    /// <summary>Characters that show as nothing: format characters (zero-width spaces and joiners, direction marks, soft hyphen, BOM), spaces, controls.</summary>
    private static bool Invisible(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format;

    private static void Password(ValidationErrors errors, string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            errors.Add("password", "This field is required.");
        }
        else if (password.Length is < PasswordService.MinLength or > PasswordService.MaxLength)
        {
            errors.Add("password", $"Must be {PasswordService.MinLength} to {PasswordService.MaxLength} characters.");
        }
    }
}
