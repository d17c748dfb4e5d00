using System.Net;

namespace Shop.Gateway.RateLimiting;

/// <summary>
/// The gateway's rate limits (<c>RateLimiting</c> in configuration). Each request draws one token from
/// one of these buckets (and a token that fails the gateway's check one more from <see cref="InvalidTokens"/>): <see cref="SignIn"/> for sign-in and registration (per client address and route: each costs a password
/// hash), <see cref="Refresh"/> for token refresh (per client address), <see cref="AccountChange"/> for a signed-in user's
/// <c>PATCH</c> of their own account (per client address: it checks the current password),
/// <see cref="PlaceOrder"/> for <c>POST /orders/</c> and <see cref="Requests"/> for everything else (both per
/// signed-in user, or per address when anonymous).
/// </summary>
public sealed class GatewayRateLimitOptions
{
    public const string Section = "RateLimiting";

    public bool Enabled { get; set; } = true;

    public TokenBucket Requests { get; set; } = new() { TokenLimit = 600, TokensPerPeriod = 100, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    public TokenBucket SignIn { get; set; } = new() { TokenLimit = 10, TokensPerPeriod = 10, ReplenishmentPeriod = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Token refreshes, per client address. A refresh checks no password (it looks up one session by an unguessable token),
    /// and a browser makes many: each tab of the web app refreshes its own access token, and a new tab signs in by one.
    /// </summary>
    public TokenBucket Refresh { get; set; } = new() { TokenLimit = 60, TokensPerPeriod = 60, ReplenishmentPeriod = TimeSpan.FromMinutes(1) };

    public TokenBucket AccountChange { get; set; } = new() { TokenLimit = 10, TokensPerPeriod = 10, ReplenishmentPeriod = TimeSpan.FromMinutes(1) };

    public TokenBucket PlaceOrder { get; set; } = new() { TokenLimit = 10, TokensPerPeriod = 30, ReplenishmentPeriod = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Bearer tokens that fail the gateway's signature check (forged, expired), per client address, taken besides the
    /// request's own bucket. Each costs an ES256 verification before the request's budget is known; past this budget a
    /// token the gateway has not checked yet is refused unchecked (tokens it has checked, and requests without one, are not).
    /// A browser sends an expired token now and then, before it refreshes.
    /// </summary>
    public TokenBucket InvalidTokens { get; set; } = new() { TokenLimit = 60, TokensPerPeriod = 20, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary>
    /// The most tokens one gateway replica takes from a shared bucket in one Redis call (a tenth of the
    /// bucket's burst, up to this; see <c>LeasedTokens</c>). 1 turns leasing off.
    /// </summary>
    public int SharedLeaseMaxTokens { get; set; } = 20;

    /// <summary>How long leased tokens stay good in the replica that took them; unused ones are dropped.</summary>
    public TimeSpan SharedLeaseLifetime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Client networks (CIDR) that are never limited — a monitoring or load-test host. The address is the
    /// one the gateway trusts (the connection's, or a <c>ForwardedHeaders:KnownNetworks</c> proxy's
    /// X-Forwarded-For), so a client cannot claim to be in one. None by default.
    /// </summary>
    public string[] ExemptNetworks { get; set; } = [];

    internal IPNetwork[] ParsedExemptNetworks() => [.. ExemptNetworks.Select(IPNetwork.Parse)];

    public sealed class TokenBucket
    {
        /// <summary>The burst: how many requests a client may make at once.</summary>
        public int TokenLimit { get; set; }

        /// <summary>Tokens given back every <see cref="ReplenishmentPeriod"/>: the sustained rate.</summary>
        public int TokensPerPeriod { get; set; }

        public TimeSpan ReplenishmentPeriod { get; set; }

        internal double TokensPerSecond => TokensPerPeriod / ReplenishmentPeriod.TotalSeconds;
    }
}
