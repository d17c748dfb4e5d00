namespace Shop.Users.Data;

public sealed class User
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string Email { get; set; }

    /// <summary>Trimmed, lower-cased email: the unique key that makes email case-insensitive.</summary>
    public required string NormalizedEmail { get; set; }

    public required string PasswordHash { get; set; }
    public string Role { get; set; } = Roles.User;
    public bool IsActive { get; set; } = true;
    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// Raised by every change that must end existing tokens (role, activity, password, email, sign-out
    /// everywhere); access tokens carry it and every service compares it on each request.
    /// </summary>
    public int SecurityStamp { get; set; } = 1;

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}

public static class Roles
{
    public const string User = "user";
    public const string Admin = "admin";
    public static readonly string[] All = [User, Admin];
}
