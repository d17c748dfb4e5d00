using StackExchange.Redis;

namespace Shop.Gateway.RateLimiting;

/// <summary>
/// A token bucket kept in Redis, so every gateway replica draws from the same one. One script call per
/// request refills the bucket for the time since its last use and takes up to the tokens asked for (at
/// least one, or none), atomically; the clock
/// is Redis' own (TIME), so replicas whose clocks differ still agree. An idle bucket expires once full.
/// </summary>
internal static class RedisTokenBucket
{
    private static readonly LuaScript Script = LuaScript.Prepare("""
        local capacity = tonumber(@capacity)
        local rate = tonumber(@rate)
        local want = tonumber(@want)
        local time = redis.call('TIME')
        local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
        local state = redis.call('HMGET', @key, 'tokens', 'at')
        local tokens = tonumber(state[1]) or capacity
        local at = tonumber(state[2]) or now
        tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
        local taken = math.min(want, math.floor(tokens))
        local retry = 0
        if taken >= 1 then
          tokens = tokens - taken
        else
          taken = 0
          retry = math.ceil((1 - tokens) / rate * 1000)
        end
        redis.call('HSET', @key, 'tokens', tostring(tokens), 'at', tostring(now))
        redis.call('PEXPIRE', @key, math.ceil(capacity / rate * 1000) + 1000)
        return { taken, retry }
        """);

    /// <summary>The script as sent, for <see cref="Shop.ServiceDefaults.ShopRedisExtensions.AddRedisScripts"/>.</summary>
    public static IEnumerable<string> Scripts => [Script.ExecutableScript];

    /// <returns>The tokens taken (1 to <paramref name="want"/>), or none and how long until one will be there.</returns>
    public static async Task<(int Taken, TimeSpan RetryAfter)> TakeAsync(IDatabase database, string key, GatewayRateLimitOptions.TokenBucket bucket, int want)
    {
        // A reply of another shape is another command's answer (ShopRedisExtensions.WrongShape): an unavailability.
        var answer = ((RedisResult[]?)(await Script.EvaluateAsync(database, new
        {
            key = (RedisKey)key,
            capacity = bucket.TokenLimit,
            rate = bucket.TokensPerSecond,
            want,
        }))).WithLength(2, "the token bucket's script");
        return ((int)answer[0], TimeSpan.FromMilliseconds((long)answer[1]));
    }
}
