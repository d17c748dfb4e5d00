using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Shop.Users.Data;

namespace Shop.Users.Services;

public enum ChangeOutcome
{
    Saved,
    EmailTaken,
    ConcurrentChange,
    /// <summary>The change takes an admin's power and its asker is no active admin any more (changed while it asked).</summary>
    AskerNoLongerAdmin,
}

/// <summary>
/// Applies a change to an account and everything it implies for its tokens: a role, activity,
/// password or email change raises the security stamp (every existing access token fails at its next
/// request, at every service); deactivation ends every session; a password change ends every session
/// but the caller's. Each change that matters is written to the security audit log.
/// </summary>
public sealed class AccountChanges(UsersDbContext db, SignInSessions sessions, SecurityStamps stamps, CacheStore cache, SecurityAudit audit)
{
    public const string CacheKeyPrefix = "user:";

    public static string CacheKey(int id) => $"{CacheKeyPrefix}{id}";

    /// <param name="user">A tracked entity with the change already set on it.</param>
    /// <param name="actorId">Who asked: the account itself or an admin.</param>
    /// <param name="actorSession">The asker's sign-in session, kept alive through a password change of their own.</param>
    public async Task<ChangeOutcome> SaveAsync(User user, int? actorId, Guid? actorSession, CancellationToken ct)
    {
        var entry = db.Entry(user);
        bool Changed(string property) => entry.Property(property).IsModified &&
            !Equals(entry.Property(property).OriginalValue, entry.Property(property).CurrentValue);

        var roleChanged = Changed(nameof(User.Role));
        var activityChanged = Changed(nameof(User.IsActive));
        var passwordChanged = entry.Property(nameof(User.PasswordHash)).IsModified;
        var emailChanged = Changed(nameof(User.NormalizedEmail));
        var oldRole = entry.Property(nameof(User.Role)).OriginalValue;
        var oldEmail = entry.Property(nameof(User.Email)).OriginalValue;
        var endsTokens = roleChanged || activityChanged || passwordChanged || emailChanged;
        if (endsTokens)
        {
            user.SecurityStamp++;
        }

        // Deactivation ends every session; a password change every one but the caller's own. The change and the
        // revocation are one transaction under the account's sessions lock: a refresh in between (after the new
        // stamp, before the revocation) handed out an access token with the new stamp, which then outlived the change.
        var deactivated = activityChanged && !user.IsActive;
        var endsSessions = deactivated || passwordChanged;
        Guid? keep = deactivated || actorId != user.Id ? null : actorSession;
        // An admin can only take another's admin power (an admin cannot take their own), so this is the change that
        // could leave the shop without an active admin.
        var takesAdminPower = Equals(oldRole, Roles.Admin) && (roleChanged || deactivated) && actorId is not null && actorId != user.Id;
        // What the caller set on the entity, tracked again at each try: a second run starts from a context that forgot it.
        var original = entry.OriginalValues.Clone();
        var modified = entry.Properties.Where(p => p.IsModified).Select(p => p.Metadata.Name).ToList();
        try
        {
            // Run again whole if it met a broken connection: it only locks, reads and updates Users' database, and the first
            // try's update was rolled back with its transaction (its COMMIT was never sent). The stamp's publication (Redis),
            // the cache and the audit come after the commit. A refused save (EmailTaken) leaves nothing to commit: PostgreSQL
            // answers the COMMIT of a failed transaction with a rollback.
            var outcome = await db.InAllOrNothingTransactionAsync(async ct =>
            {
                Track(user, original, modified);
                if (endsSessions)
                {
                    await sessions.LockSessionsAsync(user.Id, ct);
                }
                if (takesAdminPower && !await AskerStillAdminAsync(actorId!.Value, ct))
                {
                    return ChangeOutcome.AskerNoLongerAdmin;
                }
                if (!await db.TrySaveUniqueAsync(ct))
                {
                    return ChangeOutcome.EmailTaken;
                }
                if (endsSessions)
                {
                    await sessions.RevokeAllLockedAsync(user.Id, keep, ct);
                }
                return ChangeOutcome.Saved;
            }, ct);
            if (outcome != ChangeOutcome.Saved)
            {
                return outcome;
            }
        }
        catch (DbUpdateConcurrencyException)
        {
            return ChangeOutcome.ConcurrentChange;
        }

        if (endsTokens)
        {
            await stamps.PublishRaisedAsync(user.Id, user.SecurityStamp);
        }
        await cache.InvalidateAsync(CacheKey(user.Id));

        var actor = actorId?.ToString();
        var target = user.Id.ToString();
        if (roleChanged) audit.Record("user.role_changed", actor, target, $"{oldRole}→{user.Role}");
        if (activityChanged) audit.Record(user.IsActive ? "user.reactivated" : "user.deactivated", actor, target);
        if (passwordChanged) audit.Record("user.password_changed", actor, target);
        if (emailChanged) audit.Record("user.email_changed", actor, target, $"from {oldEmail}");
        return ChangeOutcome.Saved;
    }

    /// <summary>The changed account tracked as the caller left it, where the context forgot it (a second try).</summary>
    private void Track(User user, PropertyValues original, IReadOnlyList<string> modified)
    {
        var entry = db.Entry(user);
        if (entry.State != EntityState.Detached)
        {
            return;
        }
        entry.State = EntityState.Unchanged;
        entry.OriginalValues.SetValues(original);
        foreach (var name in modified)
        {
            entry.Property(name).IsModified = true;
        }
    }

    /// <summary>
    /// Whether the asker is still an active admin, read under a lock that every change taking an admin's power holds
    /// until it commits. Two admins demoting (or deactivating) each other at once were both checked by their tokens
    /// before either change was saved, and both were applied: no active admin was left. In turns, the second finds
    /// that its asker has just lost the power it is using.
    /// </summary>
    private async Task<bool> AskerStillAdminAsync(int askerId, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdminPowerLockClass}, 0)", ct);
        return await db.Users.AnyAsync(u => u.Id == askerId && u.Role == Roles.Admin && u.IsActive, ct);
    }

    // The advisory lock taken by every change that takes an admin's power (one lock for the whole shop).
    private const int AdminPowerLockClass = 0x4144_4D4E; // "ADMN"

    /// <summary>Ends every session and access token of the account (sign-out everywhere).</summary>
    public async Task SignOutEverywhereAsync(int userId, CancellationToken ct)
    {
        // Sessions first, then the stamp: a refresh that got in before the revocation handed out a token with the
        // old stamp, which the raise then ends; raised first, that refresh's token carried the new stamp and lived on.
        await sessions.RevokeAllAsync(userId, keep: null, ct);
        await sessions.RaiseStampAsync(userId, ct);
        audit.Record("auth.logout_everywhere", userId.ToString(), userId.ToString());
    }
}

/// <summary>Users' own source of stamps: its database.</summary>
public sealed class DatabaseStampSource(UsersDatabase database) : IAccountStampSource
{
    public Task<int?> GetStampAsync(int userId, CancellationToken ct) =>
        database.UseAsync((db, ct) => db.Users.Where(u => u.Id == userId).Select(u => (int?)u.SecurityStamp).FirstOrDefaultAsync(ct), ct);
}
