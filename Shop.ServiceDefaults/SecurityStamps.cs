using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Shop.ServiceDefaults;

/// <summary>Where a service learns an account's current security stamp when Redis does not have it.</summary>
public interface IAccountStampSource
{
    /// <summary>The account's current stamp, or null when there is no such account.</summary>
    /// <exception cref="ServiceUnavailableException">The source cannot answer now.</exception>
    Task<int?> GetStampAsync(int userId, CancellationToken ct);
}

public enum AccessTokenState { Current, Stale, Revoked }

/// <summary>A raised stamp that Redis may not hold yet, and when it was raised.</summary>
public readonly record struct RecordedStamp(int UserId, int Stamp, DateTime RaisedAt);

/// <summary>
/// Users' durable record of the stamps it raised that Redis may not hold yet: written in the transaction that raises a
/// stamp, forgotten once Redis has it. Kept only in memory, a stamp Redis did not take was lost when Users restarted
/// before Redis took writes again, and Redis went on holding the older stamp, which every service then accepted the
/// account's older tokens against until they expired.
/// </summary>
public interface IUnpublishedStampRecord
{
    /// <exception cref="ServiceUnavailableException">The record cannot be read now.</exception>
    Task<IReadOnlyList<RecordedStamp>> ReadAsync(CancellationToken ct);

    /// <summary>Redis holds <paramref name="stamp"/>, or no older one: the record goes, unless a newer stamp was raised since. Never throws.</summary>
    Task ForgetAsync(int userId, int stamp);
}

/// <summary>
/// Makes authorization follow the account's current state rather than what its token said when it
/// was issued. Every access token carries the account's security stamp (<c>sst</c>) and its sign-in
/// session (<c>sid</c>). Users raises the stamp on a role change, deactivation, password or email
/// change and sign-out everywhere, and writes it to Redis before it answers (or, where Redis refuses the
/// write, deletes the older one; where it takes neither, or did not answer a sign-out, publishes it every second
/// until Redis takes it); every service compares
/// the token's stamp with Redis' on each authenticated request, so the change holds from the next
/// request on. A revoked session (sign-out, refresh-token reuse) is a Redis key that lives as long as
/// an access token can. When Redis has no stamp (evicted, restarted, unreachable), the source
/// (Users' database, or Users' internal API for the other services) answers and Redis is refilled. Users also
/// records each raised stamp in its database until Redis has it (<see cref="IUnpublishedStampRecord"/>), so a
/// restart does not forget one Redis did not take, and its own check never trusts an older stamp in Redis.
/// </summary>
public sealed class SecurityStamps
{
    private readonly IConnectionMultiplexer redis;
    private readonly IServiceProvider services;
    private readonly ILogger<SecurityStamps> logger;

    /// <summary>
    /// Stamps Redis took neither the write nor the delete of, by account: published again until it takes one. In Users
    /// also the stamps its database records as unpublished (<see cref="TakeOverRecordedAsync"/>), whatever replica raised them.
    /// </summary>
    private readonly ConcurrentDictionary<int, Unpublished> _unpublished = new();
    private readonly BackgroundRetry _retry;

    /// <param name="Recorded">Whether Users' database records it (a raise), so publishing it also forgets the record.</param>
    private sealed record Unpublished(int Stamp, DateTime Since, bool Recorded);

    public SecurityStamps(IConnectionMultiplexer redis, IServiceProvider services, ILogger<SecurityStamps> logger)
    {
        this.redis = redis;
        this.services = services;
        this.logger = logger;
        _retry = new BackgroundRetry(() => !_unpublished.IsEmpty, PublishUnpublishedAsync, TimeSpan.FromSeconds(1), logger);
    }

    /// <summary>Users' logical database: Users writes the auth state, every service reads it.</summary>
    public const int RedisDatabase = 0;
    public const string StampClaim = "sst";
    public const string SessionClaim = "sid";

    /// <summary>Long enough to outlive any access token; a missing key only costs one lookup at the source.</summary>
    private static readonly TimeSpan StampTtl = TimeSpan.FromDays(1);

    // Stamps only grow: a writer holding an older stamp (a slow reader refilling the cache) never
    // overwrites a newer one that Users wrote in between.
    private const string SetIfNotOlderScript = """
        local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
        if tonumber(ARGV[1]) >= current then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        return 0
        """;

    /// <summary>The scripts the stamp check runs, for <see cref="ShopRedisExtensions.AddRedisScripts"/>.</summary>
    public static IEnumerable<string> Scripts => [SetIfNotOlderScript];

    private static RedisKey StampKey(int userId) => $"auth:stamp:{userId}";
    private static RedisKey RevokedSessionKey(string sessionId) => $"auth:revoked-session:{sessionId}";

    public async Task<AccessTokenState> CheckAsync(int userId, int stamp, string? sessionId, CancellationToken ct)
    {
        int? current = null;
        var redisAnswered = false;
        if (redis.IsConnected)
        {
            try
            {
                RedisKey[] keys = sessionId is null ? [StampKey(userId)] : [StampKey(userId), RevokedSessionKey(sessionId)];
                // A reply of another shape, or a stamp that is no number, is another command's answer: asking the
                // source is right, comparing the token's stamp with it (another account's, perhaps) never is.
                var values = (await redis.GetDatabase(RedisDatabase).StringGetAsync(keys).WithinCallBound()).WithLength(keys.Length, "MGET");
                var stored = 0;
                if (values[0].HasValue && !values[0].TryParse(out stored))
                {
                    throw ShopRedisExtensions.WrongReply($"Redis answered the stamp read of user {userId} with a value that is no stamp: a reply that is not this command's");
                }
                if (sessionId is not null && values[1].HasValue)
                {
                    return AccessTokenState.Revoked;
                }
                redisAnswered = true;
                if (values[0].HasValue)
                {
                    current = stored;
                    // A raise Redis has not taken yet: Redis still holds the older stamp, which only the raiser (Users)
                    // knows is older. A lookup without a lock; elsewhere the dictionary is always empty.
                    if (_unpublished.TryGetValue(userId, out var pending) && pending.Stamp > stored)
                    {
                        current = pending.Stamp;
                    }
                }
            }
            catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
            {
                logger.Log(ShopRedisExtensions.IsWrongReply(e) ? LogLevel.Warning : LogLevel.Debug, e, "Security stamp read failed; asking the source");
            }
        }

        if (current is null)
        {
            // Resolved per use: the other services' source is a typed HttpClient, which must not live as long as this singleton.
            current = await services.GetRequiredService<IAccountStampSource>().GetStampAsync(userId, ct);
            if (current is null)
            {
                return AccessTokenState.Revoked; // the account is gone
            }
            if (redisAnswered)
            {
                // A refill that fails is not news: Users warned when it could not publish, and a full Redis
                // would otherwise log a warning on every authenticated request of every service.
                await TryPublishAsync(userId, current.Value, LogLevel.Debug);
            }
        }
        return current == stamp ? AccessTokenState.Current : AccessTokenState.Stale;
    }

    /// <summary>
    /// Records the account's current stamp in Redis (Users, as it hands out a token). Where Redis takes neither the
    /// stamp nor the delete of the older one, it is published again every second until it does.
    /// </summary>
    public async Task PublishAsync(int userId, int stamp)
    {
        if (await TryPublishAsync(userId, stamp, LogLevel.Warning) == Publication.Failed)
        {
            PublishLater(userId, stamp, DateTime.UtcNow, recorded: false);
        }
    }

    /// <summary>
    /// Publishes a stamp Users has just raised, whose record (<see cref="IUnpublishedStampRecord"/>) the raise wrote: Users
    /// calls it after every change that raised the stamp, before answering. Once Redis has it the record goes; until then
    /// it is published again every second, by this process or, after a restart, by whichever Users process reads the record.
    /// </summary>
    public async Task PublishRaisedAsync(int userId, int stamp)
    {
        // Only a written stamp ends the record. A deleted key could be refilled meanwhile with the older stamp by a service
        // that read it from the source just before the raise committed, and Redis would hold it until the key expires.
        if (await TryPublishAsync(userId, stamp, LogLevel.Warning) == Publication.Written)
        {
            await ForgetRecordAsync(userId, stamp);
            return;
        }
        PublishLater(userId, stamp, DateTime.UtcNow, recorded: true);
    }

    /// <summary>
    /// Takes over every stamp the record holds (Users, at start and every few seconds): each is published like one this
    /// process raised, and its check trusts no older stamp in Redis meanwhile. Publishing only ever raises a stamp in
    /// Redis, so two processes publishing the same record is harmless.
    /// </summary>
    /// <returns>How many stamps the record holds.</returns>
    public async Task<int> TakeOverRecordedAsync(CancellationToken ct)
    {
        var recorded = await services.GetRequiredService<IUnpublishedStampRecord>().ReadAsync(ct);
        foreach (var (userId, stamp, raisedAt) in recorded)
        {
            PublishLater(userId, stamp, raisedAt, recorded: true);
        }
        return recorded.Count;
    }

    /// <summary>
    /// Publishes the stamp in the background, every second until Redis takes it (or, for a stamp that was not raised, the
    /// delete of the older one), so a key left at an older stamp stops letting the account's older tokens through soon
    /// after Redis answers again.
    /// </summary>
    private void PublishLater(int userId, int stamp, DateTime since, bool recorded)
    {
        // An entry that would not change stays the same object, so a retry that published it still removes it.
        _unpublished.AddOrUpdate(userId, _ => new Unpublished(stamp, since, recorded),
            (_, old) => stamp > old.Stamp ? new Unpublished(stamp, since, recorded || old.Recorded)
                : recorded && !old.Recorded ? old with { Recorded = true } : old);
        _retry.Schedule();
    }

    private async Task PublishUnpublishedAsync()
    {
        foreach (var (userId, pending) in _unpublished)
        {
            // Past the keys' TTL an older stamp has left Redis on its own.
            if (DateTime.UtcNow - pending.Since > StampTtl
                || await TryPublishAsync(userId, pending.Stamp, LogLevel.Debug) is var publication
                    && (publication == Publication.Written || publication == Publication.Deleted && !pending.Recorded))
            {
                // Only this entry: a newer stamp that arrived meanwhile is published on the next round.
                if (_unpublished.TryRemove(KeyValuePair.Create(userId, pending)) && pending.Recorded)
                {
                    await ForgetRecordAsync(userId, pending.Stamp);
                }
            }
        }
    }

    private Task ForgetRecordAsync(int userId, int stamp) =>
        services.GetService<IUnpublishedStampRecord>()?.ForgetAsync(userId, stamp) ?? Task.CompletedTask;

    private enum Publication { Written, Deleted, Failed }

    /// <returns>Whether Redis holds the stamp now (written) or at least no older one (its key deleted), or neither.</returns>
    private async Task<Publication> TryPublishAsync(int userId, int stamp, LogLevel failureLevel)
    {
        string reason;
        try
        {
            await redis.GetDatabase(RedisDatabase).ScriptEvaluateAsync(SetIfNotOlderScript,
                [StampKey(userId)], [stamp, (long)StampTtl.TotalMilliseconds]).WithinCallBound();
            return Publication.Written;
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            reason = e.Message;
        }

        // The danger is a key left at an older stamp, which every service would keep accepting old tokens
        // against. Deleting it is what is needed: readers that miss the key ask the source for the new stamp.
        // A full Redis (maxmemory with noeviction: "OOM command not allowed") refuses the write but still
        // deletes; so does one that only timed out on the write. A delete is always safe, it costs the next
        // readers one lookup at the source each.
        try
        {
            await redis.GetDatabase(RedisDatabase).KeyDeleteAsync(StampKey(userId)).WithinCallBound();
            logger.Log(failureLevel, "Could not publish security stamp {Stamp} of user {UserId} ({Reason}); deleted its Redis key instead, so every service asks Users for the stamp until Redis has it again.",
                stamp, userId, reason);
            return Publication.Deleted;
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            logger.Log(failureLevel, "Could not publish security stamp {Stamp} of user {UserId} nor delete the older one ({Reason}; the delete: {DeleteReason}); trying again every second. Where Redis answers the services meanwhile with an older stamp, they accept the account's access tokens issued before the change.",
                stamp, userId, reason, e.Message);
            return Publication.Failed;
        }
    }

    /// <summary>
    /// Ends a sign-in session's access tokens at every service (their refresh tokens are revoked in the database
    /// already): a marker in Redis names the session. Where Redis does not take it (full, or away), the account's
    /// stamp rises instead (<paramref name="raiseStamp"/>, in the source), which ends every access token of the
    /// account; its other sessions get new ones at their next refresh.
    /// </summary>
    /// <param name="userId">The session's account; null when the session has no refresh tokens left to name it by.</param>
    /// <param name="raiseStamp">Raises the account's stamp in the source, recording it (<see cref="IUnpublishedStampRecord"/>), and returns the new one.</param>
    public async Task EndSessionAsync(string sessionId, TimeSpan accessTokenLifetime, int? userId, Func<int, Task<int>> raiseStamp)
    {
        var revocation = await RevokeSessionAsync(sessionId, accessTokenLifetime);
        if (revocation == SessionRevocation.Recorded || userId is not { } account)
        {
            return;
        }
        var stamp = await raiseStamp(account);
        if (revocation == SessionRevocation.Unanswered)
        {
            // Redis did not answer in time: the stamp's write and then its delete would each wait as long again, and the
            // user with them. The raised stamp is in the source, which every service asks while Redis does not answer
            // it; Redis gets the stamp in the background once it answers.
            PublishLater(account, stamp, DateTime.UtcNow, recorded: true);
            return;
        }
        await PublishRaisedAsync(account, stamp);
    }

    private enum SessionRevocation { Recorded, Refused, Unanswered }

    private async Task<SessionRevocation> RevokeSessionAsync(string sessionId, TimeSpan accessTokenLifetime)
    {
        try
        {
            await redis.GetDatabase(RedisDatabase).StringSetAsync(RevokedSessionKey(sessionId), 1, accessTokenLifetime + TimeSpan.FromMinutes(1)).WithinCallBound();
            return SessionRevocation.Recorded;
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            logger.LogWarning("Could not mark session {SessionId} revoked ({Reason}); ending the account's access tokens by raising its security stamp instead.", sessionId, e.Message);
            return e is TimeoutException ? SessionRevocation.Unanswered : SessionRevocation.Refused;
        }
    }

    /// <summary>JwtBearer's hook: a token whose stamp is not the account's current one is not a valid token any more.</summary>
    internal static async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        if (principal.GetUserId() is not { } userId || !int.TryParse(principal.FindFirstValue(StampClaim), out var stamp))
        {
            context.Fail("The access token carries no account or security stamp. Sign in again for a new token.");
            return;
        }
        var stamps = context.HttpContext.RequestServices.GetRequiredService<SecurityStamps>();
        AccessTokenState state;
        try
        {
            state = await stamps.CheckAsync(userId, stamp, principal.FindFirstValue(SessionClaim), context.HttpContext.RequestAborted);
        }
        catch (ServiceUnavailableException e)
        {
            // Not thrown from here: JwtBearer logs an exception from its events at Error, and an outage's 503 is an
            // expected answer. The failure leaves the request anonymous; where the endpoint needs a user, the
            // challenge turns it into the 503 (ShopAuthentication.ChallengeAsync).
            context.Fail(e);
            return;
        }
        if (state != AccessTokenState.Current)
        {
            context.Fail(state == AccessTokenState.Revoked
                ? "The session of this access token was signed out. Sign in again."
                : "The account changed since the access token was issued (role, status, email or password). Refresh the token (POST /users/token/refresh) or sign in again.");
        }
    }
}
