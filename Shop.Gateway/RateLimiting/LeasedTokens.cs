namespace Shop.Gateway.RateLimiting;

/// <summary>
/// Tokens this gateway replica took from a shared (Redis) bucket in one call beyond the one it needed,
/// handed out here until they run out or the lease ends. A lease that ends unused simply drops its tokens,
/// so leasing can only make a shared limit stricter, never looser.
/// </summary>
internal sealed class LeasedTokens(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private int _left;
    private long _endsAt;

    /// <summary>
    /// How many tokens to ask a shared bucket for at once: a tenth of its burst, at most
    /// <paramref name="maxLease"/>, never fewer than one. The buckets for real clients (a burst of ten
    /// sign-ins or orders) therefore take one token per call, exactly as without leasing; only a bucket
    /// sized for heavy traffic (a partner's integration, a load test) saves the Redis round trips.
    /// </summary>
    public static int SizeFor(GatewayRateLimitOptions.TokenBucket bucket, int maxLease) =>
        Math.Clamp(bucket.TokenLimit / 10, 1, Math.Max(1, maxLease));

    public bool TryTake()
    {
        lock (_gate)
        {
            if (_left <= 0 || clock.GetTimestamp() >= _endsAt)
            {
                _left = 0;
                return false;
            }
            _left--;
            return true;
        }
    }

    /// <summary>Adds tokens taken from the shared bucket; they are good for <paramref name="lifetime"/> from now (older ones too).</summary>
    public void Add(int tokens, TimeSpan lifetime)
    {
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            _left = (now >= _endsAt ? 0 : _left) + tokens;
            _endsAt = now + (long)(lifetime.TotalSeconds * clock.TimestampFrequency);
        }
    }
}
