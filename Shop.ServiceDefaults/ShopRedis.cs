using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Shop.ServiceDefaults;

public static class ShopRedisExtensions
{
    public const string ConnectionName = "redis";

    /// <summary>
    /// True when a Redis call failed because Redis could not answer. StackExchange.Redis does not keep
    /// to RedisException: when a connection breaks mid-command, awaiting callers also meet the raw
    /// socket error (IOException "connection reset by peer", or the SocketException inside it), its
    /// pipe's "writing is not allowed after writer was completed" (InvalidOperationException), an
    /// ArgumentOutOfRangeException from the same pipe and cancelled tasks, none of them the caller's
    /// doing (RedisConnectionResetTests saw all but the bare SocketException). Redis is never required
    /// to answer a request, so each of these means "carry on without it", never a 500.
    /// </summary>
    public static bool IsUnavailability(Exception e) =>
        e is RedisException or TimeoutException or IOException or System.Net.Sockets.SocketException or InvalidOperationException or OperationCanceledException or ArgumentException
            // A reply of the wrong type (a cast of RedisValue or RedisResult that fails): see WrongShape.
            or InvalidCastException or FormatException;

    /// <summary>
    /// A reply whose shape is not the command's (an MGET of two keys answered with one value, a script's array
    /// with too few entries): Redis answered another command's question. StackExchange.Redis 2.13.17 could pair
    /// a command with another's reply after a connection reset (upstream #3200, #3205); whatever the cause, such
    /// a reply is no answer, and the caller treats it as Redis being unavailable (an <see cref="IsUnavailability"/>).
    /// </summary>
    public static RedisException WrongShape(string command, int expected, int got) =>
        WrongReply($"Redis answered {command} with {got} values where {expected} were asked for: a reply that is not this command's");

    /// <summary>A reply that is not the command's (see <see cref="WrongShape"/>), described.</summary>
    public static RedisException WrongReply(string message)
    {
        var e = new RedisException(message);
        e.Data[WrongReplyMark] = true;
        return e;
    }

    private const string WrongReplyMark = "shop.redis.wrong-reply";

    /// <summary>
    /// The failure is a reply that was not the command's (of the wrong shape or type, or not the JSON it should be):
    /// worth a warning, where a timeout or a reset is only Debug news.
    /// </summary>
    public static bool IsWrongReply(Exception e) =>
        e is InvalidCastException or FormatException or System.Text.Json.JsonException || e.Data.Contains(WrongReplyMark);

    /// <summary>The reply itself, or <see cref="WrongShape"/> when it has not <paramref name="expected"/> values.</summary>
    public static T[] WithLength<T>(this T[]? reply, int expected, string command) =>
        reply is not null && reply.Length == expected ? reply : throw WrongShape(command, expected, reply?.Length ?? 0);

    /// <summary>
    /// The longest a Redis call may keep its caller waiting. The client's AsyncTimeout (1 s, checked on its
    /// 1 s heartbeat) ends a command Redis does not answer, but not one the client itself has lost: when a
    /// connection is reset with commands in flight, StackExchange.Redis can drop a command without ever
    /// completing its task (a memory dump of a hung RedisConnectionResetTests showed a cache read awaiting a
    /// task nothing else referenced; StackExchange.Redis issue #2742). Three seconds stays clear of the
    /// client's own timeout path, so this bound only ever catches what that path missed.
    /// </summary>
    public static readonly TimeSpan CallBound = TimeSpan.FromSeconds(3);

    /// <summary>The call, or a <see cref="TimeoutException"/> (an <see cref="IsUnavailability"/>) after <see cref="CallBound"/>.</summary>
    public static Task<T> WithinCallBound<T>(this Task<T> call) => call.WaitAsync(CallBound);

    /// <inheritdoc cref="WithinCallBound{T}(Task{T})"/>
    public static Task WithinCallBound(this Task call) => call.WaitAsync(CallBound);

    /// <summary>
    /// Lua scripts the service runs: loaded into Redis while the service starts (see
    /// <see cref="RedisStartupOptions"/>), so even its first call of each sends only the script's hash.
    /// </summary>
    public static IServiceCollection AddRedisScripts(this IServiceCollection services, params IEnumerable<string> scripts) =>
        services.Configure<RedisStartupOptions>(o => o.Scripts.UnionWith(scripts));

    /// <summary>
    /// Redis for one service: its own logical database (0 Users, 1 Orders, 2 Inventory, as in the
    /// original design), short timeouts, and a health check that reports <c>degraded</c> — never
    /// unhealthy — when Redis is away, because every service keeps serving from its database.
    /// </summary>
    public static TBuilder AddShopRedis<TBuilder>(this TBuilder builder, int databaseIndex) where TBuilder : IHostApplicationBuilder
    {
        builder.AddRedisClient(ConnectionName,
            settings =>
            {
                settings.DisableHealthChecks = true;
                settings.DisableTracing = true; // traced below, with a flush interval Aspire's copy does not expose
            },
            options =>
            {
                options.DefaultDatabase = databaseIndex;
                options.AbortOnConnectFail = false;
                options.ConnectTimeout = 2000;
                options.SyncTimeout = 1000;
                options.AsyncTimeout = 1000;
                options.ConnectRetry = 1;
                // No SocketManager: StackExchange.Redis 3 reads replies on the .NET thread pool itself, what
                // SocketManager.ThreadPool chose in 2.x (docs/performance.md, Round 5); the setting is obsolete there.
                // Names the connection in Redis' CLIENT LIST: which service, which process.
                options.ClientName = $"{builder.Environment.ApplicationName}/{Environment.ProcessId}";
            });
        // The Redis tracing keeps a profiling session, and with it the request's Activity, for every traced
        // request until its next flush; at the default 10 s that held ~45,000 requests' activities (and
        // most of Inventory's heap) under the bench's read load (docs/performance.md, Memory). A 1 s flush
        // bounds what it holds to one second of requests; the spans are the same, exported a little sooner.
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddRedisInstrumentation(o => o.FlushInterval = TimeSpan.FromSeconds(1)));
        // Aspire hands the client the host's logger factory only when none is set; this one is the host's, filtered.
        builder.Services.AddOptions<ConfigurationOptions>().Configure<ILoggerFactory>((o, logs) => o.LoggerFactory = new LevelAdjustingLoggerFactory(logs, RedisClientLogLevels.LevelOf));
        builder.Services.AddSingleton<CacheStore>();
        builder.AddStartupSettings<RedisStartupOptions>("Redis")
            .Validate(o => o.ReadyWithin >= TimeSpan.Zero, "Redis:ReadyWithin must not be negative.");
        builder.Services.AddRedisScripts(CacheStore.Scripts);
        builder.Services.AddHostedService<RedisReadyAtStartup>();
        builder.Services.AddHealthChecks().AddCheck<RedisDegradedHealthCheck>("redis", failureStatus: HealthStatus.Degraded);
        return builder;
    }
}

/// <summary>
/// The level of the Redis client's entries. StackExchange.Redis narrates every connect at Information: its configuration,
/// each step of the handshake, the server's auto-configured settings, the tie-breaker election, endpoint and task summaries
/// (47 lines for one service's start against one Redis, every start of every service). Those steps of a connect that went
/// as it should are moved to Debug, leaving its "Total connect time" as the one Information line of a normal start.
/// What an operator must see keeps its level: a failed or timed-out connect (Error, and the Information lines
/// "did not respond", "returned incorrectly", "connect task canceled"), a reconnect ("Resurrecting", "Retrying"),
/// a broken connection (event 89, Error), a dead socket (Warning), and any event not named here.
/// It also logs a connection it closed itself (QUIT, when the service stops and the multiplexer is disposed: its event 88,
/// "connection failure requested") at Information with a SocketClosed RedisConnectionException attached, so every normal
/// stop of every service logged an exception; that entry is moved to Debug too.
/// </summary>
internal static class RedisClientLogLevels
{
    private const int RequestedCloseEventId = 88;

    /// <summary>
    /// StackExchange.Redis' events (its LoggerExtensions, 3.2) that narrate a connect going as it should: connecting (11, 12),
    /// the configuration and what it waits for (14, 16–18, 20–22), summaries (24–26, 29, 101, 102, 105), the election of a
    /// single primary (32, 33, 43–47, 49–51), heartbeat and subscriptions unchanged (35, 40), DNS (106, 107), and each step
    /// of the handshake and auto-configuration (57–79, 81–87, 92, 95, 96, 98–100, 110, 116, 117).
    /// </summary>
    private static readonly System.Collections.Frozen.FrozenSet<int> RoutineConnectEvents = System.Collections.Frozen.FrozenSet.ToFrozenSet(
        [11, 12, 14, 16, 17, 18, 20, 21, 22, 24, 25, 26, 29, 32, 33, 35, 40, 43, 44, 45, 46, 47, 49, 50, 51,
         .. Enumerable.Range(57, 23), .. Enumerable.Range(81, 7), 92, 95, 96, 98, 99, 100, 101, 102, 105, 106, 107, 110, 116, 117]);

    public static LogLevel LevelOf(LogLevel logLevel, EventId eventId, Exception? exception) =>
        logLevel == LogLevel.Information && (eventId.Id == RequestedCloseEventId || RoutineConnectEvents.Contains(eventId.Id)) ? LogLevel.Debug : logLevel;
}

/// <summary>What a service waits for from Redis while it starts (configuration section <c>Redis</c>).</summary>
public sealed class RedisStartupOptions
{
    /// <summary>
    /// How long a starting service waits for Redis to answer before it listens. Past it the service starts
    /// anyway and serves from its database (Redis is never required), reconnecting in the background.
    /// </summary>
    public TimeSpan ReadyWithin { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The service's Lua scripts (<see cref="ShopRedisExtensions.AddRedisScripts"/>).</summary>
    public HashSet<string> Scripts { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Makes a starting service ready for Redis before it listens: connected, answered, and holding the
/// service's scripts, so its first requests meet a warm client. The client connects synchronously when
/// first resolved; on a request path that blocked a thread-pool thread for seconds while a burst queued
/// behind it (a second replica met its first 40 orders that way). And a cold client on a busy machine can
/// take longer than its 1 s timeout (a fresh process took up to 1.6 s just to connect): a sign-in among a
/// fresh stack's first requests was refused as uncounted (503). So the start-up retries until Redis has answered, for
/// at most <see cref="RedisStartupOptions.ReadyWithin"/>; past that the service starts anyway, serves
/// from its database and reconnects in the background.
/// </summary>
internal sealed class RedisReadyAtStartup(IServiceProvider services, IOptions<RedisStartupOptions> options, ILogger<RedisReadyAtStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = options.Value;
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(settings.ReadyWithin);
        // AbortOnConnectFail is off, so this returns within the connect timeout even when Redis is down.
        var redis = await Task.Run(services.GetRequiredService<IConnectionMultiplexer>, cancellationToken);
        string? lastFailure = null;
        while (true)
        {
            if (redis.IsConnected)
            {
                var attempt = Stopwatch.GetTimestamp();
                try
                {
                    await AnsweredAsync(redis, settings.Scripts).WaitAsync(bound.Token);
                    logger.LogInformation("Redis answered a ping and loaded {Scripts} script(s) in {AttemptMs} ms, {WaitedMs} ms after the start-up began waiting for it",
                        settings.Scripts.Count, (long)Stopwatch.GetElapsedTime(attempt).TotalMilliseconds, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    return;
                }
                catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e) && !cancellationToken.IsCancellationRequested)
                {
                    lastFailure = $"{e.GetType().Name}: {e.Message}";
                }
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), bound.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Redis did not answer within {ReadyWithin} of the start ({Reason}); serving from the database and reconnecting in the background",
                    settings.ReadyWithin, lastFailure ?? "not connected");
                return;
            }
        }
    }

    /// <summary>One round trip to each server, then each script loaded there (the client remembers their hashes).</summary>
    private static async Task AnsweredAsync(IConnectionMultiplexer redis, IEnumerable<string> scripts)
    {
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            await server.PingAsync();
            foreach (var script in scripts)
            {
                await server.ScriptLoadAsync(script);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class RedisDegradedHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected)
        {
            return HealthCheckResult.Degraded("Redis is not connected; serving from the database.");
        }
        try
        {
            await redis.GetDatabase().PingAsync().WithinCallBound();
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            return HealthCheckResult.Degraded("Redis did not answer; serving from the database.");
        }
    }
}

/// <summary>
/// Cache-aside over Redis with the API's JSON format. Redis being slow or down never fails a request:
/// reads fall through to the caller's loader, and invalidations that could not reach Redis are retried
/// in the background so a stale entry cannot outlive the outage by more than its TTL.
/// </summary>
public sealed class CacheStore
{
    private readonly JsonSerializerOptions _json;
    private readonly ConcurrentDictionary<string, byte> _pendingInvalidations = new();
    private readonly BackgroundRetry _retry;
    private readonly IConnectionMultiplexer redis;
    private readonly ILogger<CacheStore> logger;

    public CacheStore(IConnectionMultiplexer redis, IOptions<JsonOptions> json, ILogger<CacheStore> logger)
    {
        this.redis = redis;
        _json = json.Value.SerializerOptions;
        this.logger = logger;
        _retry = new BackgroundRetry(() => !_pendingInvalidations.IsEmpty, RetryPendingInvalidationsAsync, TimeSpan.FromSeconds(2), logger);
    }

    // Every invalidation raises the key's generation; a fill writes only if the generation is still the
    // one read before loading. So a load that began before a change cannot put the old value back after
    // the change's invalidation (a just-deactivated account cached as active for the TTL).
    private const string InvalidateScript = """
        for _, key in ipairs(KEYS) do
          redis.call('DEL', key)
          redis.call('INCR', key .. ':gen')
          redis.call('PEXPIRE', key .. ':gen', ARGV[1])
        end
        return 0
        """;

    private const string FillScript = """
        if (redis.call('GET', KEYS[2]) or '0') == ARGV[2] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
          return 1
        end
        return 0
        """;

    /// <summary>The scripts a cache runs, for <see cref="ShopRedisExtensions.AddRedisScripts"/>.</summary>
    public static IEnumerable<string> Scripts => [InvalidateScript, FillScript];

    /// <summary>How long a generation is remembered: far longer than any load takes.</summary>
    private static readonly long GenerationTtlMs = (long)TimeSpan.FromHours(1).TotalMilliseconds;

    private static RedisKey GenerationKey(string key) => key + ":gen";

    public async Task<T?> GetOrLoadAsync<T>(string key, TimeSpan ttl, Func<CancellationToken, Task<T?>> load, CancellationToken ct)
        where T : class
    {
        var generation = RedisValue.Null;
        if (redis.IsConnected && !_pendingInvalidations.ContainsKey(key))
        {
            try
            {
                // One round trip: the value, and the generation a fill must still see.
                var values = (await redis.GetDatabase().StringGetAsync([key, GenerationKey(key)]).WithinCallBound()).WithLength(2, "MGET");
                if (values[0].HasValue)
                {
                    return JsonSerializer.Deserialize<T>((string)values[0]!, _json);
                }
                generation = values[1].HasValue ? values[1] : (RedisValue)"0";
            }
            catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e) || e is JsonException)
            {
                // A value that is not this type's JSON is another key's answer as much as a wrong-shaped reply is:
                // the loader answers, and no fill follows (the generation read with it is not to be trusted either).
                generation = RedisValue.Null;
                logger.Log(ShopRedisExtensions.IsWrongReply(e) ? LogLevel.Warning : LogLevel.Debug, e, "Cache read failed for {Key}", key);
            }
        }

        var value = await load(ct);
        if (value is not null && !generation.IsNull && redis.IsConnected && _pendingInvalidations.IsEmpty)
        {
            try
            {
                await redis.GetDatabase().ScriptEvaluateAsync(FillScript, [key, GenerationKey(key)],
                    [JsonSerializer.Serialize(value, _json), generation, (long)ttl.TotalMilliseconds]).WithinCallBound();
            }
            catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
            {
                logger.LogDebug(e, "Cache write failed for {Key}", key);
            }
        }
        return value;
    }

    public async Task InvalidateAsync(params string[] keys)
    {
        if (keys.Length == 0)
        {
            return;
        }
        try
        {
            await DeleteAndAdvanceAsync(keys);
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            logger.LogWarning("Cache invalidation of {Count} keys deferred: Redis unavailable", keys.Length);
            foreach (var key in keys)
            {
                _pendingInvalidations.TryAdd(key, 0);
            }
            ScheduleRetry();
        }
    }

    private Task DeleteAndAdvanceAsync(string[] keys) =>
        redis.GetDatabase().ScriptEvaluateAsync(InvalidateScript, [.. keys.Select(k => (RedisKey)k)], [GenerationTtlMs]).WithinCallBound();

    private void ScheduleRetry() => _retry.Schedule();

    private async Task RetryPendingInvalidationsAsync()
    {
        var keys = _pendingInvalidations.Keys.ToArray();
        try
        {
            await DeleteAndAdvanceAsync(keys);
            foreach (var key in keys)
            {
                _pendingInvalidations.TryRemove(key, out _);
            }
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            // still down; keep trying
        }
    }
}

/// <summary>
/// Runs <paramref name="attempt"/> every <paramref name="interval"/> on one background task while
/// <paramref name="hasWork"/> says there is something to do; <see cref="Schedule"/> starts the loop
/// unless it is already running.
/// </summary>
public sealed class BackgroundRetry(Func<bool> hasWork, Func<Task> attempt, TimeSpan interval, ILogger logger)
{
    private int _scheduled;

    public void Schedule()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 1)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            var failing = false;
            while (true)
            {
                while (hasWork())
                {
                    await Task.Delay(interval);
                    try
                    {
                        await attempt();
                        failing = false;
                    }
                    catch (Exception e)
                    {
                        // Attempts handle Redis being away themselves; anything else is a bug. It must not end the loop:
                        // the loop would stay marked as running and nothing would be retried for the life of the process.
                        // Said once a streak, not every interval.
                        logger.Log(failing ? LogLevel.Debug : LogLevel.Error, e, "A background retry failed unexpectedly; trying again every {Interval}.", interval);
                        failing = true;
                    }
                }
                Volatile.Write(ref _scheduled, 0);
                // Work that arrived after the last check found the loop still marked as running, so its
                // Schedule() did nothing: look once more, and carry on unless another loop took over.
                if (!hasWork() || Interlocked.Exchange(ref _scheduled, 1) == 1)
                {
                    return;
                }
            }
        });
    }
}
