using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Services;

public abstract record SignInOutcome
{
    public sealed record SignedIn(IssuedTokens Tokens) : SignInOutcome;
    /// <summary>Unknown email, wrong password or inactive account: one outcome for all three.</summary>
    public sealed record InvalidCredentials : SignInOutcome;
    public sealed record Throttled(int RetryAfterSeconds) : SignInOutcome;
    /// <summary>Too many password checks in flight; the attempt was not counted.</summary>
    public sealed record Busy : SignInOutcome;
    /// <summary>The throttle could not count the attempt in time, so the password was not checked.</summary>
    public sealed record NotCounted : SignInOutcome;
}

/// <summary>
/// Sign-in with email and password, inside the <see cref="LoginThrottle"/> for the account and the
/// address. An unknown email costs the same password check as a known one, and every failure looks alike.
/// </summary>
public sealed class PasswordSignIn(UsersDbContext db, PasswordService passwords, SignInSessions sessions, LoginThrottle throttle, SecurityAudit audit)
{
    public async Task<SignInOutcome> SignInAsync(string email, string password, IPAddress? remoteAddress, CancellationToken ct)
    {
        var normalized = User.Normalize(email);
        return await throttle.CountedCheckAsync<SignInOutcome>(normalized, remoteAddress,
            refused: admission => Refused(admission, normalized),
            checkPassword: async () =>
            {
                var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
                // Only an active account's hash is upgraded: a deactivated one answers like a wrong password, and
                // a second hash would make that answer slower, telling the caller the password was right.
                var (checkedPassword, (verification, upgradedHash)) = await passwords.WithinCapAsync(() => user switch
                {
                    null => (passwords.VerifyAgainstDummy(password), null),
                    { IsActive: false } => (passwords.Verify(user.PasswordHash, password), null),
                    _ => passwords.VerifyAndUpgrade(user.PasswordHash, password),
                }, ct);
                if (!checkedPassword)
                {
                    return (new SignInOutcome.Busy(), null);
                }
                if (user is null || verification == PasswordVerificationResult.Failed || !user.IsActive)
                {
                    audit.Record("auth.login_failed", normalized, user?.Id.ToString());
                    return (new SignInOutcome.InvalidCredentials(), false);
                }
                if (upgradedHash is not null)
                {
                    user.PasswordHash = upgradedHash;
                    try
                    {
                        await db.SaveChangesAsync(ct);
                    }
                    catch (DbUpdateConcurrencyException)
                    {
                        // The account changed while its password was checked (its stamp is the concurrency token).
                        return Changed(user);
                    }
                }
                // Null: the account changed (a new password, most likely) while the old one was being checked.
                return await sessions.StartAsync(user, ct) is { } tokens ? (new SignInOutcome.SignedIn(tokens), true) : Changed(user);
            });
    }

    /// <summary>A password checked against an account that has changed since: answered, and counted, as a wrong one.</summary>
    private (SignInOutcome, bool?) Changed(User user)
    {
        audit.Record("auth.login_failed", user.NormalizedEmail, user.Id.ToString(), "the account changed while its password was checked");
        return (new SignInOutcome.InvalidCredentials(), false);
    }

    private SignInOutcome Refused(Admission admission, string normalized)
    {
        if (admission is Admission.Wait wait)
        {
            audit.Record("auth.locked", normalized, normalized, $"retry after {wait.RetryAfterSeconds} s");
            return new SignInOutcome.Throttled(wait.RetryAfterSeconds);
        }
        return new SignInOutcome.NotCounted();
    }
}
