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
        else if (trimmed.EnumerateRunes().Any(IsCompatibilityForm) || MixesAlphabets(trimmed[..trimmed.LastIndexOf('@')])
            || trimmed[(trimmed.LastIndexOf('@') + 1)..].Split('.').Any(MixesAlphabets))
        {
            // Homoglyphs: "ｋim@example.com" (fullwidth) or "kіm@example.com" with a Cyrillic і would each be a second
            // account that reads as the first one in an admin's user list. A part wholly in another alphabet ("иван@", a
            // Cyrillic domain) is an address of its own and is accepted, so a whole-script look-alike ("асе@" for "ace@")
            // is not caught here.
            errors.Add("email", "Must be written in ordinary characters: no fullwidth letters, ligatures or other compatibility forms, and no letters of two alphabets (such as Latin and Cyrillic) in one part of the address.");
        }
    }

    /// <summary>
    /// A character that is another one written differently: a fullwidth or halfwidth form, a ligature, a letterlike or
    /// mathematical letter, a super- or subscript, an enclosed letter or digit, the micro sign. Named by Unicode block:
    /// the services run in invariant globalization mode, which has no normalization tables to compare an address with
    /// its NFKC form. Combining accents are not refused: Vietnamese keyboards type tone marks that way, and some letters
    /// (Yoruba's ọ̀) have no single-character form; so "josé" with a combining accent is still another account than "josé".
    /// </summary>
    private static bool IsCompatibilityForm(Rune rune) => rune.Value switch
    {
        0x00AA or 0x00B2 or 0x00B3 or 0x00B5 or 0x00B9 or 0x00BA => true, // ª ² ³ µ ¹ º
        >= 0x2070 and <= 0x209F or >= 0x2100 and <= 0x218F or >= 0x2460 and <= 0x24FF or >= 0x3200 and <= 0x33FF => true,
        >= 0xFB00 and <= 0xFB4F or >= 0xFF00 and <= 0xFFEF or >= 0x1D400 and <= 0x1D7FF or >= 0x1F100 and <= 0x1F1FF => true,
        _ => false,
    };

    /// <summary>Whether the letters of a local part or domain label come from more than one of the alphabets whose letters look alike.</summary>
    private static bool MixesAlphabets(string part) =>
        part.Where(char.IsLetter).Select(AlphabetOf).Where(a => a != Alphabet.Other).Distinct().Skip(1).Any();

    private enum Alphabet { Latin, Greek, Cyrillic, Other }

    // By Unicode block: the Latin, Greek and Cyrillic letters, where most look-alikes of Latin letters are.
    private static Alphabet AlphabetOf(char c) => c switch
    {
        <= '\u024f' or >= '\u1e00' and <= '\u1eff' or >= '\u2c60' and <= '\u2c7f' or >= '\ua720' and <= '\ua7ff' or >= '\uab30' and <= '\uab6f' => Alphabet.Latin,
        >= '\u0370' and <= '\u03ff' or >= '\u1f00' and <= '\u1fff' => Alphabet.Greek,
        >= '\u0400' and <= '\u052f' or >= '\u1c80' and <= '\u1c8f' or >= '\u2de0' and <= '\u2dff' or >= '\ua640' and <= '\ua69f' => Alphabet.Cyrillic,
        _ => Alphabet.Other,
    };

    /// <summary>Characters that show as nothing: format characters (zero-width spaces and joiners, direction marks, soft hyphen, BOM), spaces, controls.</summary>
    private static bool Invisible(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format;

    /// <summary>
    /// A new password's length, in characters (code points: an emoji is one, as NIST SP 800-63B 5.1.1.2 counts them) of
    /// the password as typed. Not normalized (NFKC) first: the hash is of the password as sent, as it has always been,
    /// so an existing account's password signs in as before. 128 characters are at most 512 UTF-8 bytes, which PBKDF2
    /// hashes at the cost of one HMAC key (a key longer than SHA-512's block is hashed once), so no byte cap is needed.
    /// </summary>
    private static void Password(ValidationErrors errors, string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            errors.Add("password", "This field is required.");
        }
        else if (ValidationErrors.Characters(password) is < PasswordService.MinLength or > PasswordService.MaxLength)
        {
            errors.Add("password", $"Must be {PasswordService.MinLength} to {PasswordService.MaxLength} characters.");
        }
    }
}
