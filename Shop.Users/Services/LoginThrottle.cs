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

    /// <summary>
    /// For this long after the client loses its connection to Redis, sign-ins are refused (503) rather than
    /// counted on the instance alone: a stalled Redis or a reconnection is usually over sooner, and counting
    /// alone lets every replica check its own free attempts. Past it Redis is taken to be away.
    /// </summary>
    public TimeSpan CountAloneAfter { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Refuses, naming the setting, a value that would switch throttling off without a word: a zero
/// <see cref="LoginThrottleOptions.Window"/> has Redis expire each count as it is written, a zero delay never holds anyone back.
/// </summary>
public sealed class LoginThrottleOptionsCheck : IValidateOptions<LoginThrottleOptions>
{
    public ValidateOptionsResult Validate(string? name, LoginThrottleOptions options)
    {
        var failures = new List<string>();
        void Require(bool valid, string setting, object value, string expected)
        {
            if (!valid)
            {
                failures.Add($"LoginThrottle:{setting} is {value}; give {expected}, or sign-in throttling would not hold guesses back.");
            }
        }
        foreach (var (scope, rule) in new[] { (nameof(options.PerAccountAndAddress), options.PerAccountAndAddress), (nameof(options.PerAccount), options.PerAccount), (nameof(options.PerAddress), options.PerAddress) })
        {
            Require(rule.FreeAttempts >= 0, $"{scope}:FreeAttempts", rule.FreeAttempts, "zero or more");
            Require(rule.BaseDelay >= TimeSpan.FromMilliseconds(1), $"{scope}:BaseDelay", rule.BaseDelay, "at least a millisecond");
            Require(rule.MaxDelay >= rule.BaseDelay, $"{scope}:MaxDelay", rule.MaxDelay, $"at least its BaseDelay ({rule.BaseDelay})");
        }
        Require(options.Window >= TimeSpan.FromMilliseconds(1), nameof(options.Window), options.Window, "at least a millisecond");
        Require(options.AbandonedAttemptAfter >= TimeSpan.FromMilliseconds(1), nameof(options.AbandonedAttemptAfter), options.AbandonedAttemptAfter, "at least a millisecond");
        Require(options.CountAloneAfter >= TimeSpan.Zero, nameof(options.CountAloneAfter), options.CountAloneAfter, "zero or more");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>What the throttle says of a sign-in attempt before its password may be checked.</summary>
public abstract record Admission
{
    /// <summary>Counted: the password may be checked (<see cref="LoginThrottle.CountedCheckAsync"/>).</summary>
    public sealed record Admitted(LoginThrottle.Attempt Attempt) : Admission;

    /// <summary>Too many attempts in one of the scopes: none may start for this long.</summary>
    public sealed record Wait(int RetryAfterSeconds) : Admission;

    /// <summary>
    /// The count was sent to Redis but no answer came in time, so whether it was made is unknown; the
    /// attempt is refused unchecked rather than counted on this instance alone (which let each replica
    /// check its own free attempts: 10 guesses checked across two replicas where 5 are the limit).
    /// </summary>
    public sealed record NotCounted : Admission;
}

/// <summary>
/// Sign-in throttling that cannot be raced: an attempt is counted (atomically, in Redis, shared by every
/// Users instance) before its password is checked, so N concurrent guesses are N counted attempts and
/// at most <see cref="ThrottleRule.FreeAttempts"/> of them are ever verified. Past the free attempts,
/// one attempt at a time is let through and each failure doubles the wait (progressive delay, not a hard
/// lock-out that anyone could renew for the owner). Three scopes: account+address, account, address.
/// Each attempt in flight is a field of its own, so its end is applied exactly once, a count whose answer
/// came too late can be taken back, and one whose end never reached Redis stops counting
/// <see cref="LoginThrottleOptions.AbandonedAttemptAfter"/> after it began.
/// When a count was sent but not answered in time, or the client has lost Redis only for a moment, the
/// attempt is refused (<see cref="Admission.NotCounted"/>); once Redis has been away for
/// <see cref="LoginThrottleOptions.CountAloneAfter"/>, the same rule is kept per instance.
/// </summary>
public sealed class LoginThrottle
{
    // Hash per scope: f = failures, u = unix ms before which no attempt may start, a:<id> = unix ms an
    // attempt still in flight began.
    // ARGV: now, window, abandoned-after, attempt id, then (free, base, max) per key.
    private const string AcquireScript = """
        local now = tonumber(ARGV[1])
        local abandoned = tonumber(ARGV[3])
        local wait = 0
        local scopes = {}
        for i, key in ipairs(KEYS) do
          local free = tonumber(ARGV[3 * i + 2])
          local f, u, n = 0, 0, 0
          local fields = redis.call('HGETALL', key)
          for j = 1, #fields, 2 do
            local name = fields[j]
            local value = tonumber(fields[j + 1])
            if name == 'f' then
              f = value
            elseif name == 'u' then
              u = value
            elseif string.sub(name, 1, 2) == 'a:' then
              if value + abandoned < now then
                redis.call('HDEL', key, name)
              else
                n = n + 1
              end
            end
          end
          scopes[i] = { f, n }
          if u > now then
            wait = math.max(wait, u - now)
          elseif f + n >= free and n > 0 then
            wait = math.max(wait, 1000)
          end
        end
        if wait > 0 then return wait end
        for i, key in ipairs(KEYS) do
          local free = tonumber(ARGV[3 * i + 2])
          local base = tonumber(ARGV[3 * i + 3])
          local max = tonumber(ARGV[3 * i + 4])
          local f = scopes[i][1]
          local n = scopes[i][2] + 1
          redis.call('HSET', key, 'a:' .. ARGV[4], now)
          if f + n > free then
            redis.call('HSET', key, 'u', now + math.min(base * 2 ^ (f + n - free - 1), max))
          end
          redis.call('PEXPIRE', key, ARGV[2])
        end
        return 0
        """;

    // ARGV: now, window, succeeded (1/0/-), number of leading keys a success clears, attempt id, then (free, base, max) per key.
    // Only the attempt's own field is removed: ending an attempt that was never counted (a late count taken
    // back) changes nothing.
    private const string ReleaseScript = """
        local now = tonumber(ARGV[1])
        for i, key in ipairs(KEYS) do
          if ARGV[3] == '1' and i <= tonumber(ARGV[4]) then
            redis.call('DEL', key)
          else
            local ended = redis.call('HDEL', key, 'a:' .. ARGV[5])
            if ARGV[3] == '0' then
              local free = tonumber(ARGV[3 * i + 3])
              local base = tonumber(ARGV[3 * i + 4])
              local max = tonumber(ARGV[3 * i + 5])
              local f = redis.call('HINCRBY', key, 'f', 1)
              if f >= free then
                local u = tonumber(redis.call('HGET', key, 'u') or '0')
                redis.call('HSET', key, 'u', math.max(u, now + math.min(base * 2 ^ (f - free), max)))
              end
            end
            if ended == 1 or ARGV[3] == '0' then
              redis.call('PEXPIRE', key, ARGV[2])
            end
          end
        end
        return 0
        """;

    /// <summary>The scripts the throttle runs, for <see cref="ShopRedisExtensions.AddRedisScripts"/>.</summary>
    public static IEnumerable<string> Scripts => [AcquireScript, ReleaseScript];

    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<LoginThrottle> _logger;
    private readonly LoginThrottleOptions _options;
    private readonly LocalThrottle _local = new();

    // Unix ms when the client lost its connection to Redis; 0 while connected.
    private long _lostAt;

    public LoginThrottle(IConnectionMultiplexer redis, IOptions<LoginThrottleOptions> options, ILogger<LoginThrottle> logger)
    {
        _redis = redis;
        _logger = logger;
        _options = options.Value;
        redis.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                Interlocked.CompareExchange(ref _lostAt, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0);
            }
        };
        redis.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                Interlocked.Exchange(ref _lostAt, 0);
            }
        };
    }

    /// <summary>A counted attempt; say how it ended with <see cref="LoginThrottle.ReleaseAsync"/>.</summary>
    public sealed record Attempt(string[] Keys, string Id, bool CountedLocally);

    private ThrottleRule[] Rules => [_options.PerAccountAndAddress, _options.PerAccount, _options.PerAddress];

    private static string[] KeysFor(string normalizedEmail, IPAddress? client)
    {
        // An IPv6 client is counted by its /64, as the gateway counts it: it can pick any address in it.
        var a = ClientAddress.Key(client);
        return [$"login:account-address:{normalizedEmail}|{a}", $"login:account:{normalizedEmail}", $"login:address:{a}"];
    }

    /// <summary>
    /// Runs one password check as a counted attempt: <paramref name="checkPassword"/> runs only when the throttle
    /// admits it, and says how it went (true right, false wrong, null not checked), which ends the attempt. A check
    /// that throws ends it as not checked: nothing counted, nothing cleared (also when the password was right and
    /// what followed it, such as starting the session, failed). A refused attempt's answer comes from <paramref name="refused"/>.
    /// </summary>
    public async Task<T> CountedCheckAsync<T>(string normalizedEmail, IPAddress? client,
        Func<Admission, T> refused, Func<Task<(T Outcome, bool? Succeeded)>> checkPassword)
    {
        var admission = await TryAcquireAsync(normalizedEmail, client);
        if (admission is not Admission.Admitted admitted)
        {
            return refused(admission);
        }
        bool? succeeded = null;
        try
        {
            (var outcome, succeeded) = await checkPassword();
            return outcome;
        }
        finally
        {
            await ReleaseAsync(admitted.Attempt, succeeded);
        }
    }

    /// <summary>Counts the attempt, or says how long to wait before one may start, or that it could not be counted.</summary>
    private async Task<Admission> TryAcquireAsync(string normalizedEmail, IPAddress? client)
    {
        var keys = KeysFor(normalizedEmail, client);
        var id = Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long waitMs;
        var local = false;
        if (_redis.IsConnected)
        {
            Interlocked.Exchange(ref _lostAt, 0);
            try
            {
                waitMs = (long)await _redis.GetDatabase().ScriptEvaluateAsync(AcquireScript,
                    [.. keys.Select(k => (RedisKey)k)], [now, (long)_options.Window.TotalMilliseconds, (long)_options.AbandonedAttemptAfter.TotalMilliseconds, id, .. RuleArguments()]).WithinCallBound();
            }
            catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
            {
                // Sent, so perhaps counted: a late answer, or a connection the client dropped with the script
                // in flight ("dead socket"), says nothing about whether Redis ran it. Take the count back (the
                // release only removes this attempt's own field) and let this attempt go unchecked.
                _logger.LogWarning("Sign-in attempt refused uncounted: no answer from Redis in time ({Reason}: {Message})", e.GetType().Name, e.Message);
                try
                {
                    _ = _redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [.. keys.Select(k => (RedisKey)k)],
                        ReleaseArguments(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, id), CommandFlags.FireAndForget);
                }
                catch (Exception compensation) when (ShopRedisExtensions.IsUnavailability(compensation))
                {
                    // Not sent either: a count that was made stops counting AbandonedAttemptAfter after it began.
                }
                return new Admission.NotCounted();
            }
        }
        else
        {
            var lostAt = Interlocked.CompareExchange(ref _lostAt, now, 0) is var previous and not 0 ? previous : now;
            if (now - lostAt < (long)_options.CountAloneAfter.TotalMilliseconds)
            {
                _logger.LogWarning("Sign-in attempt refused uncounted: not connected to Redis for {Elapsed} ms", now - lostAt);
                return new Admission.NotCounted();
            }
            _logger.LogWarning("Login throttle counting on this instance only: not connected to Redis for {Elapsed} ms", now - lostAt);
            waitMs = _local.Acquire(keys, Rules, now);
            local = true;
        }
        return waitMs > 0
            ? new Admission.Wait((int)Math.Max(1, Math.Ceiling(waitMs / 1000.0)))
            : new Admission.Admitted(new Attempt(keys, id, local));
    }

    /// <summary>
    /// Ends the attempt: <paramref name="succeeded"/> true clears the account's scopes (not the address's:
    /// a sprayer with one good password stays slowed), false counts a failure, null (the password was never
    /// checked) only frees the slot.
    /// </summary>
    private async Task ReleaseAsync(Attempt attempt, bool? succeeded)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (attempt.CountedLocally)
        {
            _local.Release(attempt.Keys, Rules, now, succeeded);
            return;
        }
        try
        {
            await _redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript,
                [.. attempt.Keys.Select(k => (RedisKey)k)], ReleaseArguments(now, succeeded, attempt.Id)).WithinCallBound();
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            // The attempt stays counted in flight until AbandonedAttemptAfter; its failure, if it was one, is not counted.
        }
    }

    private RedisValue[] ReleaseArguments(long now, bool? succeeded, string id) =>
        [now, (long)_options.Window.TotalMilliseconds, succeeded switch { true => "1", false => "0", null => "-" }, 2, id, .. RuleArguments()];

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
