using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Shop.Gateway.RateLimiting;

/// <summary>
/// Decides, per request, which bucket it draws from. Sign-in, token refresh, a user's change to their own account and
/// order placement draw from buckets in Redis
/// (shared by every gateway replica; a bucket sized for heavy traffic is leased a few tokens at a time, see
/// <see cref="LeasedTokens"/>); every other request draws from this replica's own bucket in memory.
/// When Redis cannot answer, the shared limits too are kept in this process — per replica, so looser by the
/// number of replicas, but never off — and a warning says so.
/// </summary>
/// <remarks>
/// Signed-in requests are counted per user only when the gateway has validated the token's signature
/// (<see cref="TokenUsers"/>); an unvalidated <c>sub</c> would let one client pick any number of fresh
/// budgets, or spend somebody else's. Forged, expired and missing tokens are counted per client address.
/// </remarks>
public sealed partial class GatewayRateLimiter : PartitionedRateLimiter<HttpContext>
{
    private readonly IConnectionMultiplexer _redis;
    private readonly TokenUsers _users;
    private readonly IOptionsMonitor<GatewayRateLimitOptions> _options;
    private readonly ILogger<GatewayRateLimiter> _logger;
    private readonly PartitionedRateLimiter<Bucket> _inProcess;
    private readonly MemoryCache _leases = new(new MemoryCacheOptions { SizeLimit = MaxLeases });
    // Shared buckets Redis found empty, until their next token is due. Only time adds tokens to a bucket, so
    // until then Redis would refuse again: a client hammering past its limit is refused here, without a round
    // trip, and costs Redis nothing.
    private readonly MemoryCache _refused = new(new MemoryCacheOptions { SizeLimit = MaxLeases });
    private readonly TimeProvider _clock = TimeProvider.System;
    private IPNetwork[] _exempt;
    private int _usingFallback;

    public GatewayRateLimiter(IConnectionMultiplexer redis, TokenUsers users, IOptionsMonitor<GatewayRateLimitOptions> options, ILogger<GatewayRateLimiter> logger)
    {
        _redis = redis;
        _users = users;
        _options = options;
        _logger = logger;
        _exempt = options.CurrentValue.ParsedExemptNetworks();
        options.OnChange(o => _exempt = o.ParsedExemptNetworks());
        _inProcess = PartitionedRateLimiter.Create<Bucket, string>(bucket => RateLimitPartition.GetTokenBucketLimiter(bucket.Key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.Settings.TokenLimit,
            TokensPerPeriod = bucket.Settings.TokensPerPeriod,
            ReplenishmentPeriod = bucket.Settings.ReplenishmentPeriod,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>
    /// Buckets with tokens leased, or known to be empty, at once, at most; beyond it a bucket takes its tokens
    /// (or its refusals) one call at a time.
    /// </summary>
    private const int MaxLeases = 50_000;

    /// <summary>One bucket: its Redis key (kind, route, user or address) and its limits.</summary>
    /// <param name="ClientFallback">For a bucket counted per user: the address to count by when the request has no valid token.</param>
    internal sealed record Bucket(string Kind, string Key, GatewayRateLimitOptions.TokenBucket Settings, string? ClientFallback = null)
    {
        public Bucket WithUser(string? userKey) =>
            ClientFallback is null ? this : this with { Key = Key + (userKey ?? ClientFallback), ClientFallback = null };
    }

    internal static readonly string[] SignInPaths = ["/users/login", "/users/register"];

    internal const string RefreshPath = "/users/token/refresh";

    private bool IsLimited(HttpContext context) =>
        _options.CurrentValue.Enabled && context.Connection.RemoteIpAddress is { } address && !IsExempt(address);

    /// <summary>
    /// Sign-in (per path and client address), token refresh (per client address), a signed-in user's change to their own
    /// account (per client address) and order placement (per user, see <see cref="Bucket.WithUser"/>) draw from buckets shared in Redis; null for
    /// every other request. <paramref name="userKey"/> is the validated user's key, or null.
    /// </summary>
    internal static Bucket? SharedBucket(HttpRequest request, IPAddress address, string? userKey, GatewayRateLimitOptions options)
    {
        var patch = HttpMethods.IsPatch(request.Method);
        if (!patch && !HttpMethods.IsPost(request.Method))
        {
            return null; // every read, among others: decided before the path is copied and lower-cased
        }
        var path = request.Path.Value?.TrimEnd('/').ToLowerInvariant() ?? "";
        if (patch)
        {
            // A change of one's own email or password checks the current password: a password hash, as costly as a
            // sign-in, which the user's own request budget (100 a second) would let every account of one address
            // ask for without end. Counted per address, like sign-in, since one address can hold many accounts.
            // An admin's change to someone else's account checks no password and is not counted here.
            return userKey is not null && IsOwnAccount(path, userKey)
                ? new Bucket("account-change", $"rl:account:{ClientKey(address)}", options.AccountChange)
                : null;
        }
        if (path == RefreshPath)
        {
            // No password is checked, and every tab of a browser refreshes its own token (a new tab signs in by one).
            return new Bucket("refresh", $"rl:refresh:{ClientKey(address)}", options.Refresh);
        }
        if (SignInPaths.Contains(path))
        {
            return new Bucket("sign-in", $"rl:signin:{path}:{ClientKey(address)}", options.SignIn);
        }
        return path == "/orders" ? new Bucket("order", "rl:order:", options.PlaceOrder, ClientKey(address)) : null;
    }

    /// <summary>
    /// Whether the path is <c>/users/{id}</c> of the user itself. The id is read as Users' <c>{id:int}</c> route reads it
    /// (sign, spaces, leading zeros), so that no spelling of one's own id reaches Users uncounted.
    /// </summary>
    private static bool IsOwnAccount(string path, string userKey) =>
        path.StartsWith("/users/", StringComparison.Ordinal)
        && int.TryParse(path.AsSpan("/users/".Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
        && userKey == "u:" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The general request budget: per user when the token is valid, else per client address.</summary>
    internal static Bucket RequestsBucket(IPAddress address, string? userKey, GatewayRateLimitOptions options) =>
        new(RequestsKind, "rl:req:" + (userKey ?? ClientKey(address)), options.Requests);

    private const string RequestsKind = "request";

    /// <summary>The one bucket a request draws from: its shared bucket, counted for its user, else the general budget.</summary>
    internal static Bucket BucketFor(HttpRequest request, IPAddress address, string? userKey, GatewayRateLimitOptions options) =>
        SharedBucket(request, address, userKey, options)?.WithUser(userKey) ?? RequestsBucket(address, userKey, options);

    /// <summary>Bearer tokens that failed the gateway's check (forged, expired, another issuer's), per client address.</summary>
    internal static Bucket InvalidTokensBucket(IPAddress address, GatewayRateLimitOptions options) =>
        new("invalid-token", "rl:badtoken:" + ClientKey(address), options.InvalidTokens);

    private bool IsExempt(IPAddress address)
    {
        var exempt = _exempt;
        if (exempt.Length == 0)
        {
            return false;
        }
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return exempt.Any(n => n.Contains(normalized));
    }

    /// <summary>An IPv4 address, or an IPv6 /64 (<see cref="ClientAddress"/>).</summary>
    internal static string ClientKey(IPAddress address) => "a:" + ClientAddress.Key(address);

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    // Most requests are decided here, without I/O: the general budget is in this process, a token seen
    // before is already known to be valid (TokenUsers), and a shared bucket may have tokens leased here.
    // Otherwise (Redis to ask, a token not checked yet) it says "not yet" and the middleware calls
    // AcquireAsyncCore. A refusal also goes there and is decided again — a refused attempt takes no token,
    // so nothing is counted twice.
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        if (!IsLimited(resource))
        {
            return Lease.Granted;
        }
        if (!_users.TryGetKnownUser(resource, out var sub))
        {
            return Lease.Undecided;
        }
        var options = _options.CurrentValue;
        var address = resource.Connection.RemoteIpAddress!;
        var bucket = BucketFor(resource.Request, address, sub is null ? null : "u:" + sub, options);
        if (bucket.Kind != RequestsKind)
        {
            return TryTakeLeased(bucket) ? Lease.Granted : Lease.Undecided;
        }
        using var local = _inProcess.AttemptAcquire(bucket);
        return local.IsAcquired ? Lease.Granted : Lease.Undecided;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        if (!IsLimited(resource))
        {
            return Lease.Granted;
        }
        var options = _options.CurrentValue;
        var address = resource.Connection.RemoteIpAddress!;
        if (!_users.TryGetKnownUser(resource, out var sub))
        {
            // A token not seen before costs a signature check before its request has a budget to draw from (whose
            // budget depends on it), so the address's request budget cannot bound those checks: tokens that fail
            // it draw from a budget of their address's own (in this process), and past it an unseen token is refused
            // unchecked. Checks already under way when it empties still finish, so the bound is the budget plus the
            // address's requests in flight. A token that failed only because Users' signing keys could not be fetched or read
            // is not counted: it may be valid, and the services answer it 503.
            var invalidTokens = InvalidTokensBucket(address, options);
            if (_inProcess.GetStatistics(invalidTokens) is { CurrentAvailablePermits: < 1 })
            {
                return Lease.FromMemory(invalidTokens.Kind, invalidTokens.Settings.ReplenishmentPeriod / invalidTokens.Settings.TokensPerPeriod);
            }
            (sub, var refused) = await _users.UserAsync(resource);
            if (refused)
            {
                _inProcess.AttemptAcquire(invalidTokens).Dispose();
            }
        }
        var bucket = BucketFor(resource.Request, address, sub is null ? null : "u:" + sub, options);
        // The general request budget is kept per gateway replica, in memory: a Redis round trip on every
        // read cost the gateway most of its throughput (docs/performance.md), and a per-replica budget is
        // only looser by the number of replicas. The sensitive flows (sign-in, refresh, account changes, orders) are shared in Redis.
        if (bucket.Kind != RequestsKind && await TakeSharedAsync(bucket) is { } shared)
        {
            return shared;
        }
        using var local = _inProcess.AttemptAcquire(bucket);
        if (local.IsAcquired)
        {
            return Lease.Granted;
        }
        return Lease.FromMemory(bucket.Kind, local.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : bucket.Settings.ReplenishmentPeriod);
    }

    /// <summary>
    /// A shared bucket's answer: a token leased earlier, a refusal remembered until the next token is due, or
    /// Redis. Null when Redis cannot answer, and this replica's own bucket decides instead.
    /// </summary>
    private async ValueTask<RateLimitLease?> TakeSharedAsync(Bucket bucket)
    {
        if (TryTakeLeased(bucket))
        {
            return Lease.Granted;
        }
        if (KnownEmptyFor(bucket) is { } emptyFor)
        {
            return Lease.FromMemory(bucket.Kind, emptyFor);
        }
        if (!_redis.IsConnected)
        {
            WarnFallback(null);
            return null;
        }
        try
        {
            var options = _options.CurrentValue;
            var (taken, wait) = await RedisTokenBucket.TakeAsync(_redis.GetDatabase(), bucket.Key, bucket.Settings, LeasedTokens.SizeFor(bucket.Settings, options.SharedLeaseMaxTokens)).WithinCallBound();
            if (Interlocked.Exchange(ref _usingFallback, 0) == 1)
            {
                LogRedisBack(_logger);
            }
            if (taken > 1)
            {
                KeepLeased(bucket.Key, taken - 1, options.SharedLeaseLifetime);
            }
            if (taken < 1)
            {
                KeepRefused(bucket.Key, wait);
                return new Lease(bucket.Kind, wait);
            }
            return Lease.Granted;
        }
        catch (Exception e) when (ShopRedisExtensions.IsUnavailability(e))
        {
            WarnFallback(e);
            return null;
        }
    }

    /// <summary>How long until the shared bucket, found empty by Redis, has a token again; null when not known to be empty.</summary>
    private TimeSpan? KnownEmptyFor(Bucket bucket)
    {
        if (!_refused.TryGetValue(bucket.Key, out long until))
        {
            return null;
        }
        var left = _clock.GetElapsedTime(_clock.GetTimestamp(), until);
        return left > TimeSpan.Zero ? left : null;
    }

    private void KeepRefused(string key, TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
        {
            return;
        }
        _refused.Set(key, _clock.GetTimestamp() + (long)(wait.TotalSeconds * _clock.TimestampFrequency),
            new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = wait });
    }

    private bool TryTakeLeased(Bucket bucket) =>
        _leases.TryGetValue(bucket.Key, out LeasedTokens? leased) && leased!.TryTake();

    private void KeepLeased(string key, int tokens, TimeSpan lifetime)
    {
        var leased = _leases.GetOrCreate(key, entry =>
        {
            entry.Size = 1;
            // Evicted a while after its last top-up; an evicted lease only drops tokens (stricter).
            entry.SlidingExpiration = lifetime + lifetime;
            return new LeasedTokens(_clock);
        })!;
        leased.Add(tokens, lifetime);
    }

    private void WarnFallback(Exception? error)
    {
        if (Interlocked.Exchange(ref _usingFallback, 1) == 0)
        {
            LogFallback(_logger, error);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inProcess.Dispose();
            _leases.Dispose();
            _refused.Dispose();
        }
        base.Dispose(disposing);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limits fall back to this gateway process: Redis is unreachable, so each replica counts on its own until it is back")]
    private static partial void LogFallback(ILogger logger, Exception? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate limits are shared through Redis again")]
    private static partial void LogRedisBack(ILogger logger);

    /// <summary>A granted lease, or a refusal that says which limit and when to retry.</summary>
    /// <param name="inMemory">Refused by this process alone, without asking Redis.</param>
    internal sealed class Lease(string? kind, TimeSpan retryAfter, bool inMemory = false) : RateLimitLease
    {
        public static readonly Lease Granted = new(null, TimeSpan.Zero);
        public static readonly Lease Undecided = new("undecided", TimeSpan.Zero);

        public static Lease FromMemory(string kind, TimeSpan retryAfter) => new(kind, retryAfter, inMemory: true);

        public string? Kind { get; } = kind;

        /// <summary>Refused by this process alone (a bucket in memory, or one Redis had already found empty).</summary>
        public bool DecidedInMemory { get; } = inMemory;

        public override bool IsAcquired => Kind is null;

        public TimeSpan RetryAfter { get; } = retryAfter;

        public override IEnumerable<string> MetadataNames => IsAcquired ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name && !IsAcquired ? RetryAfter : null;
            return metadata is not null;
        }
    }
}
