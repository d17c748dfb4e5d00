using Shop.Users.Data;

namespace Shop.Users.Apis;

public sealed record UserResponse(int Id, string Name, string Email, string Role, bool IsActive, DateTime CreatedAt)
{
    public static UserResponse From(User u) => new(u.Id, u.Name, u.Email, u.Role, u.IsActive, DateTime.SpecifyKind(u.CreatedAt, DateTimeKind.Utc));
}

public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, UserResponse User);

public sealed record RegisterRequest(string? Name, string? Email, string? Password);

public sealed record LoginRequest(string? Email, string? Password);

/// <summary>Every field optional; what may be changed depends on who asks (see <see cref="UsersApi"/>).</summary>
public sealed record UpdateUserRequest(string? Name, string? Email, string? Password, string? CurrentPassword, string? Role, bool? IsActive);

/// <summary>What Orders needs to know before taking an order.</summary>
public sealed record UserStatusResponse(int Id, string Role, bool IsActive);
