using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>
/// What Redis keeps for one account (<see cref="AccountChanges.CacheKey"/>). Its own type so that a change
/// to the REST body does not change the cache; if this shape changes, version the cache key too.
/// </summary>
public sealed record CachedAccount(int Id, string Name, string Email, string Role, bool IsActive, DateTime CreatedAt)
{
    public static CachedAccount From(User u) => new(u.Id, u.Name, u.Email, u.Role, u.IsActive, DateTime.SpecifyKind(u.CreatedAt, DateTimeKind.Utc));
}

/// <summary>Account reads: one account through the cache (every change invalidates it in <see cref="AccountChanges"/>), the list, the status.</summary>
public sealed class AccountReader(UsersDbContext db, CacheStore cache)
{
    private static readonly TimeSpan CacheTtl = TimeSpan.FromMinutes(5);

    public Task<CachedAccount?> GetAsync(int id, CancellationToken ct) =>
        cache.GetOrLoadAsync(AccountChanges.CacheKey(id), CacheTtl, async token =>
        {
            var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, token);
            return user is null ? null : CachedAccount.From(user);
        }, ct);

    /// <summary>One page of all accounts, newest first.</summary>
    public Task<Page<T>> ListAsync<T>(Paging paging, Func<User, T> map, CancellationToken ct) =>
        db.Users.AsNoTracking().ToPageAsync(paging, users => users.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id), map, ct);

    /// <summary>
    /// Straight from the database, not the cache: other services trust this for the security stamp when
    /// Redis has none, and a cached row could be older than the stamp they hold.
    /// </summary>
    public Task<AccountStatus?> StatusAsync(int id, CancellationToken ct) =>
        db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new AccountStatus(u.Id, u.Role, u.IsActive, u.SecurityStamp))
            .FirstOrDefaultAsync(ct);
}
