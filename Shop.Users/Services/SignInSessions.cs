using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>What a sign-in or a refresh hands out: a short access token and the session's next refresh token.</summary>
public sealed record IssuedTokens(User User, string AccessToken, int ExpiresIn, string RefreshToken, DateTime RefreshExpiresAt);

public enum RefreshOutcome { Refreshed, Invalid, Reused }

/// <summary>
/// Sign-in sessions: each is a family of one-time refresh tokens stored as SHA-256 hashes. A refresh
/// consumes the presented token atomically and issues the next; presenting a consumed token again
/// revokes the family (the legitimate holder and the thief are then both signed out, RFC 9700 §4.14.2).
/// Sign-out revokes the family and marks its session revoked for the other services at once.
/// </summary>
public sealed class SignInSessions(UsersDbContext db, TokenIssuer tokens, SecurityStamps stamps, SecurityAudit audit, IOptions<JwtOptions> options)
{
    private readonly TimeSpan _refreshLifetime = options.Value.RefreshLifetime;
    private readonly TimeSpan _sessionMaxLifetime = options.Value.SessionMaxLifetime;

    /// <summary>
    /// Starts a session for <paramref name="user"/> as it was read when its password was checked. Null when the account
    /// changed since (its stamp rose: a new password, deactivation, another role or email): a password change that
    /// committed while this sign-in checked the old password has revoked the sessions already, and one stored after it
    /// would outlive the change. The check and the new session are under the sessions lock that such a change holds.
    /// </summary>
    public async Task<IssuedTokens?> StartAsync(User user, CancellationToken ct)
    {
        // Expired tokens of this account are of no further use, not even for reuse detection. Deleting them again deletes nothing more.
        await db.Database.RerunnableAsync(() => db.RefreshTokens.Where(r => r.UserId == user.Id && r.ExpiresAt < DateTime.UtcNow).ExecuteDeleteAsync(ct));
        // Run again whole if it met a broken connection: it only locks, reads and inserts in Users' database (the new
        // token is built inside, so a second try stores one row); the tokens are handed out after the commit.
        var next = await db.InAllOrNothingTransactionAsync(async ct =>
        {
            await LockSessionsAsync(user.Id, ct);
            var stamp = await db.Users.Where(u => u.Id == user.Id).Select(u => (int?)u.SecurityStamp).FirstOrDefaultAsync(ct);
            if (stamp != user.SecurityStamp)
            {
                return null;
            }
            var (row, refresh) = NextToken(user.Id, Guid.NewGuid(), DateTime.UtcNow);
            db.RefreshTokens.Add(row);
            await db.SaveChangesAsync(ct);
            return ((RefreshToken Row, string Refresh)?)(row, refresh);
        }, ct);
        return next is (var row, var refresh) ? await HandOutAsync(user, row, refresh) : null;
    }

    public async Task<(RefreshOutcome Outcome, IssuedTokens? Tokens)> RefreshAsync(string presented, CancellationToken ct)
    {
        var hash = Hash(presented);
        if (await db.RefreshTokens.Where(r => r.TokenHash == hash).Select(r => (int?)r.UserId).FirstOrDefaultAsync(ct) is not { } userId)
        {
            return (RefreshOutcome.Invalid, null);
        }
        var now = DateTime.UtcNow;
        // Run again whole if it met a broken connection: it only locks, updates, reads and inserts in Users' database (the
        // next token is built inside, so a second try stores one row). A session it ends is revoked by the commit; its
        // access tokens (Redis), the audit entry and the answer come after it.
        var refresh = await db.InAllOrNothingTransactionAsync(async ct =>
        {
            await LockSessionsAsync(userId, ct);
            // One statement decides who consumes the token: of two concurrent refreshes, one wins and the other is reuse.
            // The session's start is checked as well as the token's expiry, so a lowered Jwt:SessionMaxLifetime applies at once.
            var startedAfter = now - _sessionMaxLifetime;
            var consumed = await db.RefreshTokens
                .Where(r => r.TokenHash == hash && r.ConsumedAt == null && r.RevokedAt == null && r.ExpiresAt > now && r.SessionStartedAt > startedAfter)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.ConsumedAt, now), ct);
            var token = await db.RefreshTokens.AsNoTracking().FirstAsync(r => r.TokenHash == hash, ct);
            if (consumed == 0)
            {
                if (token.ConsumedAt is not null && token.RevokedAt is null)
                {
                    await RevokeFamilyRowsAsync(token.FamilyId, ct);
                    return new Refresh(RefreshOutcome.Reused, token, Ended: true);
                }
                return new Refresh(RefreshOutcome.Invalid, token, Ended: false);
            }
            var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == token.UserId, ct);
            if (user is null || !user.IsActive)
            {
                await RevokeFamilyRowsAsync(token.FamilyId, ct);
                return new Refresh(RefreshOutcome.Invalid, token, Ended: true);
            }
            var (row, next) = NextToken(user.Id, token.FamilyId, token.SessionStartedAt);
            db.RefreshTokens.Add(row);
            await db.SaveChangesAsync(ct);
            return new Refresh(RefreshOutcome.Refreshed, token, Ended: false, (user, row, next));
        }, ct);

        if (refresh.Ended)
        {
            await EndAccessTokensAsync(refresh.Token.FamilyId, refresh.Token.UserId);
        }
        if (refresh.Outcome == RefreshOutcome.Reused)
        {
            audit.Record("auth.token_reuse", refresh.Token.UserId.ToString(), $"session {refresh.Token.FamilyId:N}", "a used refresh token was presented again; the session is revoked");
        }
        return refresh.Next is var (user, row, next) ? (refresh.Outcome, await HandOutAsync(user, row, next)) : (refresh.Outcome, null);
    }

    /// <summary>What a refresh's transaction decided, acted on once it committed.</summary>
    /// <param name="Token">The presented token's row.</param>
    /// <param name="Ended">Its session's refresh tokens were revoked (a reused token, an account gone or deactivated).</param>
    /// <param name="Next">The account and the session's next token, stored.</param>
    private sealed record Refresh(RefreshOutcome Outcome, RefreshToken Token, bool Ended, (User User, RefreshToken Row, string Refresh)? Next = null);

    /// <summary>The session a refresh token belongs to, if it is one of ours.</summary>
    public Task<Guid?> FindSessionAsync(string presented, CancellationToken ct)
    {
        var hash = Hash(presented);
        return db.RefreshTokens.Where(r => r.TokenHash == hash).Select(r => (Guid?)r.FamilyId).FirstOrDefaultAsync(ct);
    }

    /// <summary>
    /// Sign-out: ends the session the access token names or, without one, the session of the presented
    /// refresh token. Nothing to end (no token, or not one of ours) is not an error.
    /// </summary>
    public async Task SignOutAsync(Guid? sessionFromAccessToken, string? presentedRefreshToken, int? userId, CancellationToken ct)
    {
        var session = sessionFromAccessToken
            ?? (string.IsNullOrEmpty(presentedRefreshToken) ? null : await FindSessionAsync(presentedRefreshToken, ct));
        if (session is { } id)
        {
            await RevokeFamilyAsync(id, ct);
            audit.Record("auth.logout", userId?.ToString(), $"session {id:N}");
        }
    }

    /// <summary>Ends one session: its refresh tokens stop working, and so do its access tokens at every service.</summary>
    public async Task RevokeFamilyAsync(Guid sessionId, CancellationToken ct)
    {
        // Run again whole if it met a broken connection: it only reads, locks and updates Users' database; the access
        // tokens are ended (Redis) after the commit.
        var userId = await db.InAllOrNothingTransactionAsync(async ct =>
        {
            var owner = await db.RefreshTokens.Where(r => r.FamilyId == sessionId).Select(r => (int?)r.UserId).FirstOrDefaultAsync(ct);
            if (owner is { } id)
            {
                await LockSessionsAsync(id, ct);
                await RevokeFamilyRowsAsync(sessionId, ct);
            }
            return owner;
        }, ct);
        await EndAccessTokensAsync(sessionId, userId);
    }

    /// <summary>
    /// Ends the session's access tokens at every service (<see cref="SecurityStamps.EndSessionAsync"/>). Not cancelled
    /// with the request: the refresh tokens are revoked already, and tokens left working after a sign-out is the one
    /// outcome to avoid.
    /// </summary>
    /// <param name="userId">The session's account; null when the session has no refresh tokens left to name it by.</param>
    private Task EndAccessTokensAsync(Guid sessionId, int? userId) =>
        stamps.EndSessionAsync(sessionId.ToString("N"), tokens.Lifetime, userId, account => RaiseStoredStampAsync(account, CancellationToken.None));

    /// <summary>Raises the account's security stamp and publishes it: every access token issued before ends at its next request.</summary>
    public async Task RaiseStampAsync(int userId, CancellationToken ct) =>
        await stamps.PublishRaisedAsync(userId, await RaiseStoredStampAsync(userId, ct));

    /// <summary>
    /// Raises the account's security stamp in the database (the source every service asks when Redis does not answer),
    /// which records it as unpublished in the same statement (<see cref="UnpublishedStampTable"/>).
    /// </summary>
    private async Task<int> RaiseStoredStampAsync(int userId, CancellationToken ct)
    {
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.SecurityStamp, u => u.SecurityStamp + 1), ct);
        return await db.Users.Where(u => u.Id == userId).Select(u => u.SecurityStamp).FirstAsync(ct);
    }

    /// <summary>
    /// Ends the account's sessions except <paramref name="keep"/>. Callers also raise the security stamp,
    /// which ends every access token; the kept session gets a new one at its next refresh.
    /// </summary>
    /// <remarks>Run again whole if it met a broken connection: a lock and an update in Users' database, nothing else.</remarks>
    public Task RevokeAllAsync(int userId, Guid? keep, CancellationToken ct) =>
        db.InAllOrNothingTransactionAsync(async ct =>
        {
            await LockSessionsAsync(userId, ct);
            await RevokeAllLockedAsync(userId, keep, ct);
        }, ct);

    /// <summary>Revokes the account's sessions except <paramref name="keep"/>, in the transaction that took <see cref="LockSessionsAsync"/>.</summary>
    public Task RevokeAllLockedAsync(int userId, Guid? keep, CancellationToken ct) =>
        db.RefreshTokens.Where(r => r.UserId == userId && r.RevokedAt == null && r.FamilyId != keep)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.RevokedAt, DateTime.UtcNow), ct);

    /// <summary>
    /// A refresh and a revocation of the same account's sessions take turns, until the end of the caller's transaction.
    /// Without it a refresh that consumed its token before a sign-out began stored the session's next token
    /// after the sign-out's update had run, and that update (whose snapshot predates the new row) left it working.
    /// An account change that must end sessions takes it too, and saves itself and <see cref="RevokeAllLockedAsync"/>
    /// in the same transaction, so that no refresh runs between the two and hands out a token that reads the changed
    /// account but escapes the revocation.
    /// </summary>
    public Task LockSessionsAsync(int userId, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({SessionsLockClass}, {userId})", ct);

    // The first key of the two-key advisory locks on an account's sessions (the second is the user id).
    private const int SessionsLockClass = 0x5345_5353; // "SESS"

    private Task RevokeFamilyRowsAsync(Guid sessionId, CancellationToken ct) =>
        db.RefreshTokens.Where(r => r.FamilyId == sessionId && r.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.RevokedAt, DateTime.UtcNow), ct);

    private (RefreshToken Row, string Refresh) NextToken(int userId, Guid sessionId, DateTime sessionStartedAt)
    {
        var refresh = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = DateTime.UtcNow;
        return (new RefreshToken
        {
            Id = Guid.CreateVersion7(),
            FamilyId = sessionId,
            UserId = userId,
            TokenHash = Hash(refresh),
            CreatedAt = now,
            SessionStartedAt = sessionStartedAt,
            // Not past the session's end: an API client reads it as refresh_expires_in.
            ExpiresAt = Min(now + _refreshLifetime, sessionStartedAt + _sessionMaxLifetime),
        }, refresh);
    }

    /// <summary>After the new refresh token is stored: the account's stamp for the other services, and the access token.</summary>
    private async Task<IssuedTokens> HandOutAsync(User user, RefreshToken row, string refresh)
    {
        await stamps.PublishAsync(user.Id, user.SecurityStamp);
        var (access, expiresIn) = tokens.Issue(user, row.FamilyId);
        return new IssuedTokens(user, access, expiresIn, refresh, row.ExpiresAt);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
