using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>A change to an account, already validated and authorised: each field that is not null is set.</summary>
public sealed record AccountUpdate(string? Name, string? Email, string? Password, string? CurrentPassword, string? Role, bool? IsActive);

/// <summary>Who asks for a change: the account itself, an admin, or both.</summary>
public sealed record Actor(int? UserId, Guid? SessionId, bool IsAdmin);

public abstract record UpdateOutcome
{
    public sealed record Updated(User User) : UpdateOutcome;
    public sealed record NotFound : UpdateOutcome;
    /// <summary>The account changing itself is deactivated.</summary>
    public sealed record InactiveCaller : UpdateOutcome;
    public sealed record WrongCurrentPassword : UpdateOutcome;
    /// <summary>An admin tried to deactivate or demote their own account.</summary>
    public sealed record SelfLockout : UpdateOutcome;
    public sealed record EmailTaken : UpdateOutcome;
    public sealed record ConcurrentChange : UpdateOutcome;
    /// <summary>Too many password hashes in flight; nothing was changed.</summary>
    public sealed record Busy : UpdateOutcome;
}

public enum DeactivateOutcome { Deactivated, NotFound, SelfLockout, ConcurrentChange }

/// <summary>
/// Changes to an account by itself or an admin. Changing one's own email or password needs the current
/// password, so a stolen access token alone cannot take the account over; an admin cannot lock themselves
/// out. <see cref="AccountChanges"/> then saves and revokes what the change implies.
/// </summary>
public sealed class AccountUpdates(UsersDbContext db, PasswordService passwords, AccountChanges changes)
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
        if (isSelf && NeedsCurrentPassword(update))
        {
            var (checkedPassword, verification) = await passwords.WithinCapAsync(() => passwords.Verify(user.PasswordHash, update.CurrentPassword!), ct);
            if (!checkedPassword)
            {
                return new UpdateOutcome.Busy();
            }
            if (verification == PasswordVerificationResult.Failed)
            {
                return new UpdateOutcome.WrongCurrentPassword();
            }
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
            _ => new UpdateOutcome.Updated(user),
        };
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
        return await changes.SaveAsync(user, actor.UserId, actor.SessionId, ct) == ChangeOutcome.ConcurrentChange
            ? DeactivateOutcome.ConcurrentChange
            : DeactivateOutcome.Deactivated;
    }
}
