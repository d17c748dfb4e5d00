using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Shop.Users.Services;

public sealed class LoginThrottleOptions
{
    public int MaxFailures { get; set; } = 5;
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// Counts failed logins per email in Redis (shared by every Users instance): after
/// <see cref="LoginThrottleOptions.MaxFailures"/> failures the email is locked until the window that
/// began with the first failure ends. Redis down → a per-instance count, so throttling never switches off.
/// </summary>
public sealed class LoginThrottle(IConnectionMultiplexer redis, IOptions<LoginThrottleOptions> options, ILogger<LoginThrottle> logger)
{
    // INCR and set the expiry only on the first failure, atomically.
    private const string IncrementScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """;

    private readonly LoginThrottleOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, (int Count, DateTime WindowEnd)> _local = new();

    private static RedisKey Key(string normalizedEmail) => $"login-failures:{normalizedEmail}";

    /// <summary>Seconds until the email may try again, or null when it may try now.</summary>
    public async Task<int?> RetryAfterAsync(string normalizedEmail)
    {
        try
        {
            var db = redis.GetDatabase();
            var count = await db.StringGetAsync(Key(normalizedEmail));
            if (count.HasValue && (int)count >= _options.MaxFailures)
            {
                var ttl = await db.KeyTimeToLiveAsync(Key(normalizedEmail));
                return Math.Max(1, (int)Math.Ceiling((ttl ?? _options.Window).TotalSeconds));
            }
            return null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Login throttle falling back to this instance's counts: Redis unavailable");
            return _local.TryGetValue(normalizedEmail, out var entry) && entry.Count >= _options.MaxFailures && entry.WindowEnd > DateTime.UtcNow
                ? Math.Max(1, (int)Math.Ceiling((entry.WindowEnd - DateTime.UtcNow).TotalSeconds))
                : null;
        }
    }

    public async Task RecordFailureAsync(string normalizedEmail)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(IncrementScript, [Key(normalizedEmail)], [(long)_options.Window.TotalMilliseconds]);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            var now = DateTime.UtcNow;
            _local.AddOrUpdate(normalizedEmail, _ => (1, now + _options.Window),
                (_, entry) => entry.WindowEnd > now ? (entry.Count + 1, entry.WindowEnd) : (1, now + _options.Window));
        }
    }

    public async Task ResetAsync(string normalizedEmail)
    {
        _local.TryRemove(normalizedEmail, out _);
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(Key(normalizedEmail));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Nothing to undo; the window expires on its own.
        }
    }
}
