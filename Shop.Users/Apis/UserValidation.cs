using System.Net.Mail;
using Shop.Users.Services;

namespace Shop.Users.Apis;

internal static class UserValidation
{
    public const int NameMax = 100;
    public const int EmailMax = 254;

    public static void Email(ValidationErrors errors, string? email)
    {
        errors.RequireString("email", email, EmailMax);
        if (string.IsNullOrWhiteSpace(email) || email.Trim().Length > EmailMax)
        {
            return;
        }
        var trimmed = email.Trim();
        if (!MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed || !parsed.Host.Contains('.'))
        {
            errors.Add("email", "Must be a valid email address.");
        }
    }

    public static void Password(ValidationErrors errors, string? password, string field = "password")
    {
        if (string.IsNullOrEmpty(password))
        {
            errors.Add(field, "This field is required.");
        }
        else if (password.Length is < PasswordService.MinLength or > PasswordService.MaxLength)
        {
            errors.Add(field, $"Must be {PasswordService.MinLength} to {PasswordService.MaxLength} characters.");
        }
    }
}
