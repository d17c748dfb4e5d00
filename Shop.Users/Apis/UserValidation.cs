using System.Text;
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
        errors.RequireName("name", request.Name, NameMax);
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
        else if (ValidationErrors.Characters(request.Password) > PasswordService.MaxLength)
        {
            errors.Add("password", $"Must be at most {PasswordService.MaxLength} characters.");
        }
        return errors;
    }

    /// <param name="isSelf">The account changes itself: changing its email or password then needs <c>current_password</c>.</param>
    public static ValidationErrors Update(UpdateUserRequest request, bool isSelf)
    {
        var errors = new ValidationErrors();
        if (request is { Name: null, Email: null, Password: null, Role: null, IsActive: null })
        {
            // Unknown fields are ignored, so a misspelt one ("active") would otherwise be a 200 that changed nothing.
            return errors.Add("body", "Nothing to change: send at least one of name, email, password, role or is_active.");
        }
        if (request.Name is not null)
        {
            errors.RequireName("name", request.Name, NameMax);
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
        else if (request.CurrentPassword is not null && ValidationErrors.Characters(request.CurrentPassword) > PasswordService.MaxLength)
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
        if (NewEmailProblem(email.Trim()) is { } problem)
        {
            errors.Add("email", problem);
        }
    }

    /// <summary>
    /// Why <paramref name="email"/> (trimmed) cannot be an account's new address, or null when it can: at registration,
    /// an email change and the admin bootstrap. Signing in takes any address, so an account from before a rule keeps
    /// signing in.
    /// </summary>
    public static string? NewEmailProblem(string email)
    {
        if (!MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !parsed.Host.Contains('.'))
        {
            return "Must be a valid email address.";
        }
        if (parsed.Host.EndsWith('.') || email.Any(Invisible))
        {
            // Each would be a second account that reads as the first one: "a@b.co" and "a@b.co." (the DNS root) or
            // "a@b.co" with a zero-width space, which an admin's user list shows alike.
            return "Must be a valid email address, without a trailing dot or invisible characters (such as a zero-width space).";
        }
        if (!Ascii.IsValid(email))
        {
            // Uniqueness is of the address lower-cased, and no rule short of ASCII keeps out every letter that reads as
            // another: "kım@" (dotless ı) beside "kim@", a Cyrillic "асе@" beside "ace@", "kïm@" beside "kim@". The shop
            // sends no mail, so the address is only a name to sign in with; a domain has its ASCII (xn--) form.
            return "Must be written in ASCII characters only (no accented, dotless or fullwidth letters, no other alphabets), so that no address reads as another one; give an internationalised domain in its ASCII form (xn--…).";
        }
        return null;
    }

    /// <summary>Characters that show as nothing: format characters (zero-width spaces and joiners, direction marks, soft hyphen, BOM), spaces, controls.</summary>
    private static bool Invisible(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format;

    /// <summary>
    /// A new password's length, in characters (code points: an emoji is one, as NIST SP 800-63B 5.1.1.2 counts them) of
    /// the password as typed. Not normalized (NFKC) first: the hash is of the password as sent, as it has always been,
    /// so an existing account's password signs in as before. 128 characters are at most 512 UTF-8 bytes, which PBKDF2
    /// hashes at the cost of one HMAC key (a key longer than SHA-512's block is hashed once), so no byte cap is needed.
    /// </summary>
    public static bool IsNewPasswordLength(string password) =>
        ValidationErrors.Characters(password) is >= PasswordService.MinLength and <= PasswordService.MaxLength;

    private static void Password(ValidationErrors errors, string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            errors.Add("password", "This field is required.");
        }
        else if (!IsNewPasswordLength(password))
        {
            errors.Add("password", $"Must be {PasswordService.MinLength} to {PasswordService.MaxLength} characters.");
        }
    }
}
