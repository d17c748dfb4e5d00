using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Shop.ServiceDefaults;

namespace Shop.Orders.Services;

/// <summary>
/// Whether an account may place orders, asked of Users once per account and security stamp rather than
/// once per order. A stamp names one state of the account: Users raises it on every deactivation (and
/// role, password or email change), and every request's token was already refused unless its stamp is
/// the account's current one (<see cref="SecurityStamps"/>). So "active at stamp s" cannot go stale while
/// s is current. The entry is still kept only <see cref="OrdersOptions.ActiveAccountCacheTtl"/>: that
/// bounds the one case the stamp check misses, a deactivation whose new stamp Users could not write to
/// Redis (it logs a warning then). Only "active" answers are kept; a refusal is asked again each time.
/// </summary>
public sealed class ActiveAccounts(IOptions<OrdersOptions> options) : IDisposable
{
    /// <summary>Enough for every account ordering within the TTL; beyond it an account is simply asked again.</summary>
    private const int Capacity = 50_000;

    private readonly MemoryCache _active = new(new MemoryCacheOptions { SizeLimit = Capacity });
    private readonly TimeSpan _ttl = options.Value.ActiveAccountCacheTtl;

    /// <param name="users">Users' internal API (a typed client, so the caller's, not held here).</param>
    /// <exception cref="ServiceUnavailableException">Users cannot answer now.</exception>
    public async Task<bool> IsActiveAsync(int userId, int stamp, UsersAccountClient users, CancellationToken ct)
    {
        if (_active.TryGetValue((userId, stamp), out _))
        {
            return true;
        }
        var status = await users.GetStatusAsync(userId, ct);
        if (status is not { IsActive: true })
        {
            return false;
        }
        // Kept under the stamp Users answered with, which is the token's unless the account changed in between.
        if (_ttl > TimeSpan.Zero && status.SecurityStamp == stamp)
        {
            _active.Set((userId, stamp), true, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = _ttl, Size = 1 });
        }
        return true;
    }

    public void Dispose() => _active.Dispose();
}
