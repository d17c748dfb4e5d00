using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>A change to an account, already validated and authorised: each field that is not null is set.</summary>
public sealed record AccountUpdate(string? Name, string? Email, string? Password, string? CurrentPassword, string? Role, bool? IsActive);

/// <summary>Who asks for a change: the account itself, an admin, or both; and from which client address.</summary>
public sealed record Actor(int? UserId, Guid? SessionId, bool IsAdmin, IPAddress? Address = null);

public abstract record UpdateOutcome
{
    public sealed record Updated(User User) : UpdateOutcome;
    public sealed record NotFound : UpdateOutcome;
    /// <summary>The account changing itself is deactivated.</summary>
    public sealed record InactiveCaller : UpdateOutcome;
    public sealed record WrongCurrentPassword : UpdateOutcome;
    /// <summary>Too many password guesses for this account or from this address (sign-in's limits): wait this long.</summary>
    public sealed record Throttled(int RetryAfterSeconds) : UpdateOutcome;
    /// <summary>The guess could not be counted against the sign-in limits in time, so it was not checked.</summary>
    public sealed record NotCounted : UpdateOutcome;
    /// <summary>An admin tried to deactivate or demote their own account.</summary>
    public sealed record SelfLockout : UpdateOutcome;
    public sealed record EmailTaken : UpdateOutcome;
    public sealed record ConcurrentChange : UpdateOutcome;
    /// <summary>The admin asking lost the role or was deactivated while asking to take another admin's power.</summary>
    public sealed record AskerNoLongerAdmin : UpdateOutcome;
    /// <summary>Too many password hashes in flight; nothing was changed.</summary>
    public sealed record Busy : UpdateOutcome;
}

public enum DeactivateOutcome { Deactivated, NotFound, SelfLockout, ConcurrentChange, AskerNoLongerAdmin }

/// <summary>
/// Changes to an account by itself or an admin. Changing one's own email or password needs the current
/// password, so a stolen access token alone cannot take the account over; that check is a password guess
/// like a sign-in and counts against the same <see cref="LoginThrottle"/> limits, or the token would buy
/// unlimited guesses (and a flood of them would hold every sign-in's password checks). An admin cannot lock
/// themselves out. <see cref="AccountChanges"/> then saves and revokes what the change implies.
/// </summary>
public sealed class AccountUpdates(UsersDbContext db, PasswordService passwords, AccountChanges changes, LoginThrottle throttle, SecurityAudit audit)
{
    private static bool NeedsCurrentPassword(AccountUpdate update) => update.Password is not null || update.Email is not null;

    public async Task<UpdateOutcome> UpdateAsync(int id, AccountUpdate update, Actor actor, CancellationToken ct)
    {
        var isSelf = actor.UserId == id;
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return new UpdateOutcome.NotFound();
        }
        if (isSelf && !user.IsActive)
        {
            return new UpdateOutcome.InactiveCaller();
        }
        if (isSelf && NeedsCurrentPassword(update) && await CheckCurrentPasswordAsync(user, update.CurrentPassword!, actor.Address, ct) is { } refused)
        {
            return refused;
        }
        if (isSelf && actor.IsAdmin && (update.IsActive == false || update.Role == Roles.User))
        {
            return new UpdateOutcome.SelfLockout();
        }

        if (update.Name is not null) user.Name = update.Name.Trim();
        if (update.Email is not null)
        {
            user.Email = update.Email.Trim();
            user.NormalizedEmail = User.Normalize(update.Email);
        }
        if (update.Password is not null)
        {
            var (hashed, hash) = await passwords.WithinCapAsync(() => passwords.Hash(update.Password), ct);
            if (!hashed)
            {
                return new UpdateOutcome.Busy();
            }
            user.PasswordHash = hash;
        }
        if (update.Role is not null) user.Role = update.Role;
        if (update.IsActive is { } active) user.IsActive = active;

        return await changes.SaveAsync(user, actor.UserId, actor.SessionId, ct) switch
        {
            ChangeOutcome.EmailTaken => new UpdateOutcome.EmailTaken(),
            ChangeOutcome.ConcurrentChange => new UpdateOutcome.ConcurrentChange(),
            ChangeOutcome.AskerNoLongerAdmin => new UpdateOutcome.AskerNoLongerAdmin(),
            _ => new UpdateOutcome.Updated(user),
        };
    }

    /// <returns>Null when the password is right; otherwise why the change is refused.</returns>
    private async Task<UpdateOutcome?> CheckCurrentPasswordAsync(User user, string currentPassword, IPAddress? address, CancellationToken ct)
    {
        return await throttle.CountedCheckAsync<UpdateOutcome?>(user.NormalizedEmail, address,
            refused: admission =>
            {
                if (admission is Admission.Wait wait)
                {
                    audit.Record("auth.locked", user.Id.ToString(), user.Id.ToString(), $"current password; retry after {wait.RetryAfterSeconds} s");
                    return new UpdateOutcome.Throttled(wait.RetryAfterSeconds);
                }
                return new UpdateOutcome.NotCounted();
            },
            checkPassword: async () =>
            {
                var (checkedPassword, verification) = await passwords.WithinCapAsync(() => passwords.Verify(user.PasswordHash, currentPassword), ct);
                if (!checkedPassword)
                {
                    return (new UpdateOutcome.Busy(), null);
                }
                if (verification == PasswordVerificationResult.Failed)
                {
                    audit.Record("auth.current_password_failed", user.Id.ToString(), user.Id.ToString());
                    return (new UpdateOutcome.WrongCurrentPassword(), false);
                }
                return (null, true);
            });
    }

    /// <summary>Deactivates an account (an admin's act) and ends its sessions.</summary>
    public async Task<DeactivateOutcome> DeactivateAsync(int id, Actor actor, CancellationToken ct)
    {
        if (actor.UserId == id)
        {
            return DeactivateOutcome.SelfLockout;
        }
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return DeactivateOutcome.NotFound;
        }
        user.IsActive = false;
        return await changes.SaveAsync(user, actor.UserId, actor.SessionId, ct) switch
        {
            ChangeOutcome.ConcurrentChange => DeactivateOutcome.ConcurrentChange,
            ChangeOutcome.AskerNoLongerAdmin => DeactivateOutcome.AskerNoLongerAdmin,
            _ => DeactivateOutcome.Deactivated,
        };
    }
}
