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

/// <summary>
/// Makes authorization follow the account's current state rather than what its token said when it
/// was issued. Every access token carries the account's security stamp (<c>sst</c>) and its sign-in
/// session (<c>sid</c>). Users raises the stamp on a role change, deactivation, password or email
/// change and sign-out everywhere, and writes it to Redis before it answers (or, where Redis refuses the
/// write, deletes the older one); every service compares
/// the token's stamp with Redis' on each authenticated request, so the change holds from the next
/// request on. A revoked session (sign-out, refresh-token reuse) is a Redis key that lives as long as
/// an access token can. When Redis has no stamp (evicted, restarted, unreachable), the source
/// (Users' database, or Users' internal API for the other services) answers and Redis is refilled.
/// </summary>
public sealed class SecurityStamps(IConnectionMultiplexer redis, IServiceProvider services, ILogger<SecurityStamps> logger)
{
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
                var values = await redis.GetDatabase(RedisDatabase).StringGetAsync(keys).WithinCallBound();
                redisAnswered = true;
                if (sessionId is not null && values[1].HasValue)
                {
                    return AccessTokenState.Revoked;
                }
                if (values[0].HasValue)
                {
                    current = (int)values[0];
                }
            }
            catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
            {
                logger.LogDebug(e, "Security stamp read failed; asking the source");
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
                await PublishAsync(userId, current.Value, LogLevel.Debug);
            }
        }
        return current == stamp ? AccessTokenState.Current : AccessTokenState.Stale;
    }

    /// <summary>Records the account's stamp. Users calls it after every change that raised it, before answering.</summary>
    public Task PublishAsync(int userId, int stamp) => PublishAsync(userId, stamp, LogLevel.Warning);

    private async Task PublishAsync(int userId, int stamp, LogLevel failureLevel)
    {
        var db = redis.GetDatabase(RedisDatabase);
        string reason;
        try
        {
            await db.ScriptEvaluateAsync(SetIfNotOlderScript,
                [StampKey(userId)], [stamp, (long)StampTtl.TotalMilliseconds]).WithinCallBound();
            return;
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
            await db.KeyDeleteAsync(StampKey(userId)).WithinCallBound();
            logger.Log(failureLevel, "Could not publish security stamp {Stamp} of user {UserId} ({Reason}); deleted its Redis key instead, so every service asks Users for the stamp until Redis has it again.",
                stamp, userId, reason);
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            logger.Log(failureLevel, "Could not publish security stamp {Stamp} of user {UserId} nor delete the older one ({Reason}; the delete: {DeleteReason}). Where Redis still holds an older stamp, the account's access tokens issued before the change stay valid until Redis has the new stamp or loses the key (its TTL, a day), or they expire (Jwt:Lifetime).",
                stamp, userId, reason, e.Message);
        }
    }

    /// <summary>
    /// Ends a sign-in session's access tokens at once (their refresh tokens are revoked in the database). False when
    /// Redis did not record it (full, or away): the caller must end the tokens another way.
    /// </summary>
    public async Task<bool> RevokeSessionAsync(string sessionId, TimeSpan accessTokenLifetime)
    {
        try
        {
            await redis.GetDatabase(RedisDatabase).StringSetAsync(RevokedSessionKey(sessionId), 1, accessTokenLifetime + TimeSpan.FromMinutes(1)).WithinCallBound();
            return true;
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            logger.LogWarning("Could not mark session {SessionId} revoked ({Reason}); ending the account's access tokens by raising its security stamp instead.", sessionId, e.Message);
            return false;
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
