using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>A new account's fields, already validated.</summary>
public sealed record NewAccount(string Name, string Email, string Password);

public abstract record RegistrationOutcome
{
    public sealed record Registered(IssuedTokens Tokens) : RegistrationOutcome;
    public sealed record EmailTaken : RegistrationOutcome;
    /// <summary>Too many password hashes in flight; nothing was created.</summary>
    public sealed record Busy : RegistrationOutcome;
}

/// <summary>Creates an account with role user and starts its first sign-in session.</summary>
public sealed class Registration(UsersDbContext db, PasswordService passwords, SignInSessions sessions)
{
    public async Task<RegistrationOutcome> RegisterAsync(NewAccount account, CancellationToken ct)
    {
        // The common duplicate is refused before a password hash is spent on it; a race is still caught below.
        var normalizedEmail = User.Normalize(account.Email);
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail, ct))
        {
            return new RegistrationOutcome.EmailTaken();
        }
        var (hashed, hash) = await passwords.WithinCapAsync(() => passwords.Hash(account.Password), ct);
        if (!hashed)
        {
            return new RegistrationOutcome.Busy();
        }
        var user = new User
        {
            Name = account.Name.Trim(),
            Email = account.Email.Trim(),
            NormalizedEmail = normalizedEmail,
            PasswordHash = hash,
            Role = Roles.User,
            CreatedAt = DatabaseTime.UtcNow,
        };
        db.Users.Add(user);
        if (!await db.TrySaveUniqueAsync(ct))
        {
            return new RegistrationOutcome.EmailTaken();
        }
        // A new account cannot have changed yet.
        return new RegistrationOutcome.Registered(await sessions.StartAsync(user, ct)
            ?? throw new InvalidOperationException("A new account changed before its first session started."));
    }
}
