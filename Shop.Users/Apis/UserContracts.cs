using System.Text.Json.Serialization;
using Shop.Users.Data;
using Shop.Users.Services;

namespace Shop.Users.Apis;

public sealed record UserResponse(int Id, string Name, string Email, string Role, bool IsActive, DateTime CreatedAt)
{
    public static UserResponse From(User u) => From(CachedAccount.From(u));

    public static UserResponse From(CachedAccount a) => new(a.Id, a.Name, a.Email, a.Role, a.IsActive, a.CreatedAt);
}

/// <summary>
/// A sign-in's answer. The refresh token is in the body only for clients that asked for it
/// (<c>return_refresh_token</c>); a browser gets it as an HttpOnly cookie that script cannot read.
/// </summary>
public sealed record TokenResponse(
    string AccessToken,
    string TokenType,
    int ExpiresIn,
    UserResponse User,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RefreshExpiresIn = null);

public sealed record RegisterRequest(string? Name, string? Email, string? Password, bool? ReturnRefreshToken = null);

public sealed record LoginRequest(string? Email, string? Password, bool? ReturnRefreshToken = null);

/// <summary>Body of a refresh or sign-out from a non-browser client; browsers send the cookie instead.</summary>
public sealed record RefreshRequest(string? RefreshToken);

/// <summary>
/// Every field optional; what may be changed depends on who asks (see <see cref="UsersApi"/>). Changing
/// one's own email or password needs <c>current_password</c>.
/// </summary>
public sealed record UpdateUserRequest(string? Name, string? Email, string? Password, string? CurrentPassword, string? Role, bool? IsActive);

/// <summary>What Orders needs to know before taking an order, and what every service needs to check a token's stamp.</summary>
public sealed record UserStatusResponse(int Id, string Role, bool IsActive, int SecurityStamp)
{
    public static UserStatusResponse From(AccountStatus s) => new(s.Id, s.Role, s.IsActive, s.SecurityStamp);
}
