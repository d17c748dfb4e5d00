using System.Net;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Shop.Users.Services;

/// <summary>How many sign-in attempts a scope gets before each further one must wait, and how that wait grows.</summary>
public sealed class ThrottleRule
{
    /// <summary>Attempts (failed, or still being checked) allowed before the delays start.</summary>
    public int FreeAttempts { get; set; }

    /// <summary>The wait after the first attempt past the free ones; it doubles with every further failure.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; set; }
}

public sealed class LoginThrottleOptions
{
    /// <summary>One account from one client address: the guessing attacker's scope.</summary>
    public ThrottleRule PerAccountAndAddress { get; set; } = new() { FreeAttempts = 5, MaxDelay = TimeSpan.FromMinutes(15) };

    /// <summary>
    /// One account from anywhere: slows guessing spread over many addresses, with a short ceiling so that
    /// strangers cannot keep the owner (who signs in from an address of their own) out for long.
    /// </summary>
    public ThrottleRule PerAccount { get; set; } = new() { FreeAttempts = 20, MaxDelay = TimeSpan.FromMinutes(1) };

    /// <summary>One client address, any account: password spraying. A success does not clear it.</summary>
    public ThrottleRule PerAddress { get; set; } = new() { FreeAttempts = 50, MaxDelay = TimeSpan.FromMinutes(5) };

    /// <summary>A scope with no attempt for this long starts again from zero.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// When no attempt has started in a scope for this long, none is still in flight: one still counted is
    /// an attempt whose end never reached Redis (a timeout or a dropped connection), and it stops counting.
    /// Far longer than an attempt can take (at most 15 s waiting for a password check, then the check).
    /// </summary>
    public TimeSpan AbandonedAttemptAfter { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Sign-in throttling that cannot be raced: an attempt is counted (atomically, in Redis, shared by every
/// Users instance) before its password is checked, so N concurrent guesses are N counted attempts and
/// at most <see cref="ThrottleRule.FreeAttempts"/> of them are ever verified. Past the free attempts,
/// one attempt at a time is let through and each failure doubles the wait (progressive delay, not a hard
/// lock-out that anyone could renew for the owner). Three scopes: account+address, account, address.
/// An attempt whose end never reached Redis stops counting after <see cref="LoginThrottleOptions.AbandonedAttemptAfter"/>.
/// When Redis is away the same rule is kept per instance.
/// </summary>
public sealed class LoginThrottle(IConnectionMultiplexer redis, IOptions<LoginThrottleOptions> options, ILogger<LoginThrottle> logger)
{
    // Hash per scope: f = failures, n = attempts in flight, t = unix ms the last one started,
    // u = unix ms before which no attempt may start.
    // ARGV: now, window, abandoned-after, then (free, base, max) per key.
    private const string AcquireScript = """
        local now = tonumber(ARGV[1])
        local wait = 0
        for i, key in ipairs(KEYS) do
          local free = tonumber(ARGV[3 * i + 1])
          local f = tonumber(redis.call('HGET', key, 'f') or '0')
          local n = tonumber(redis.call('HGET', key, 'n') or '0')
          local u = tonumber(redis.call('HGET', key, 'u') or '0')
          if n > 0 and tonumber(redis.call('HGET', key, 't') or '0') + tonumber(ARGV[3]) < now then
            n = 0
            redis.call('HSET', key, 'n', 0)
          end
          if u > now then
            wait = math.max(wait, u - now)
          elseif f + n >= free and n > 0 then
            wait = math.max(wait, 1000)
          end
        end
        if wait > 0 then return wait end
        for i, key in ipairs(KEYS) do
          local free = tonumber(ARGV[3 * i + 1])
          local base = tonumber(ARGV[3 * i + 2])
          local max = tonumber(ARGV[3 * i + 3])
          local f = tonumber(redis.call('HGET', key, 'f') or '0')
          local n = redis.call('HINCRBY', key, 'n', 1)
          redis.call('HSET', key, 't', now)
          if f + n > free then
            redis.call('HSET', key, 'u', now + math.min(base * 2 ^ (f + n - free - 1), max))
          end
          redis.call('PEXPIRE', key, ARGV[2])
        end
        return 0
        """;

    // ARGV: now, window, succeeded (1/0), number of leading keys a success clears, then (free, base, max) per key.
    private const string ReleaseScript = """
        local now = tonumber(ARGV[1])
        for i, key in ipairs(KEYS) do
          if ARGV[3] == '1' and i <= tonumber(ARGV[4]) then
            redis.call('DEL', key)
          else
            local n = redis.call('HINCRBY', key, 'n', -1)
            if n < 0 then redis.call('HSET', key, 'n', 0) end
            if ARGV[3] == '0' then
              local free = tonumber(ARGV[3 * i + 2])
              local base = tonumber(ARGV[3 * i + 3])
              local max = tonumber(ARGV[3 * i + 4])
              local f = redis.call('HINCRBY', key, 'f', 1)
              if f >= free then
                local u = tonumber(redis.call('HGET', key, 'u') or '0')
                redis.call('HSET', key, 'u', math.max(u, now + math.min(base * 2 ^ (f - free), max)))
              end
            end
            redis.call('PEXPIRE', key, ARGV[2])
          end
        end
        return 0
        """;

    private readonly LoginThrottleOptions _options = options.Value;
    private readonly LocalThrottle _local = new();

    /// <summary>A counted attempt; say how it ended with <see cref="LoginThrottle.ReleaseAsync"/>.</summary>
    public sealed record Attempt(string[] Keys, bool CountedLocally);

    private ThrottleRule[] Rules => [_options.PerAccountAndAddress, _options.PerAccount, _options.PerAddress];

    private static string[] KeysFor(string normalizedEmail, IPAddress? client)
    {
        var address = client?.IsIPv4MappedToIPv6 == true ? client.MapToIPv4() : client;
        var a = address?.ToString() ?? "unknown";
        return [$"login:account-address:{normalizedEmail}|{a}", $"login:account:{normalizedEmail}", $"login:address:{a}"];
    }

    /// <summary>Counts the attempt, or says how many seconds to wait before one may start.</summary>
    public async Task<(Attempt? Attempt, int RetryAfterSeconds)> TryAcquireAsync(string normalizedEmail, IPAddress? client)
    {
        var keys = KeysFor(normalizedEmail, client);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long waitMs;
        var local = false;
        try
        {
            waitMs = (long)await redis.GetDatabase().ScriptEvaluateAsync(AcquireScript,
                [.. keys.Select(k => (RedisKey)k)], [now, (long)_options.Window.TotalMilliseconds, (long)_options.AbandonedAttemptAfter.TotalMilliseconds, .. RuleArguments()]).WithinCallBound();
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            logger.LogWarning("Login throttle counting on this instance only: Redis unavailable");
            waitMs = _local.Acquire(keys, Rules, now);
            local = true;
        }
        return waitMs > 0 ? (null, (int)Math.Max(1, Math.Ceiling(waitMs / 1000.0))) : (new Attempt(keys, local), 0);
    }

    /// <summary>
    /// Ends the attempt: <paramref name="succeeded"/> true clears the account's scopes (not the address's:
    /// a sprayer with one good password stays slowed), false counts a failure, null (the password was never
    /// checked) only frees the slot.
    /// </summary>
    public async Task ReleaseAsync(Attempt attempt, bool? succeeded)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (attempt.CountedLocally)
        {
            _local.Release(attempt.Keys, Rules, now, succeeded);
            return;
        }
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript,
                [.. attempt.Keys.Select(k => (RedisKey)k)],
                [now, (long)_options.Window.TotalMilliseconds, succeeded switch { true => "1", false => "0", null => "-" }, 2, .. RuleArguments()]).WithinCallBound();
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            // The attempt stays counted in flight until AbandonedAttemptAfter; its failure, if it was one, is not counted.
        }
    }

    private IEnumerable<RedisValue> RuleArguments() => Rules.SelectMany(r => new RedisValue[]
    {
        r.FreeAttempts, (long)r.BaseDelay.TotalMilliseconds, (long)r.MaxDelay.TotalMilliseconds,
    });

    /// <summary>The same rule in memory, for while Redis is away (per instance, so N instances allow N times as much).</summary>
    private sealed class LocalThrottle
    {
        private readonly Dictionary<string, (int Failures, int InFlight, long Until)> _scopes = [];

        public long Acquire(string[] keys, ThrottleRule[] rules, long now)
        {
            lock (_scopes)
            {
                if (_scopes.Count > 100_000)
                {
                    _scopes.Clear(); // a long outage under attack must not exhaust memory
                }
                long wait = 0;
                for (var i = 0; i < keys.Length; i++)
                {
                    var (f, n, u) = _scopes.GetValueOrDefault(keys[i]);
                    wait = Math.Max(wait, u > now ? u - now : f + n >= rules[i].FreeAttempts && n > 0 ? 1000 : 0);
                }
                if (wait > 0)
                {
                    return wait;
                }
                for (var i = 0; i < keys.Length; i++)
                {
                    var (f, n, u) = _scopes.GetValueOrDefault(keys[i]);
                    n++;
                    _scopes[keys[i]] = (f, n, f + n > rules[i].FreeAttempts ? now + Delay(rules[i], f + n - rules[i].FreeAttempts - 1) : u);
                }
                return 0;
            }
        }

        public void Release(string[] keys, ThrottleRule[] rules, long now, bool? succeeded)
        {
            lock (_scopes)
            {
                for (var i = 0; i < keys.Length; i++)
                {
                    if (succeeded == true && i < 2)
                    {
                        _scopes.Remove(keys[i]);
                        continue;
                    }
                    var (f, n, u) = _scopes.GetValueOrDefault(keys[i]);
                    n = Math.Max(0, n - 1);
                    if (succeeded == false && ++f >= rules[i].FreeAttempts)
                    {
                        u = Math.Max(u, now + Delay(rules[i], f - rules[i].FreeAttempts));
                    }
                    _scopes[keys[i]] = (f, n, u);
                }
            }
        }

        private static long Delay(ThrottleRule rule, int doublings) =>
            (long)Math.Min(rule.BaseDelay.TotalMilliseconds * Math.Pow(2, doublings), rule.MaxDelay.TotalMilliseconds);
    }
}
