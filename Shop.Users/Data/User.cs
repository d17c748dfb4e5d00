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

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}

public static class Roles
{
    public const string User = "user";
    public const string Admin = "admin";
    public static readonly string[] All = [User, Admin];
}
