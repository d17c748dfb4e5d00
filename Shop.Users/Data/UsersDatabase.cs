using Microsoft.EntityFrameworkCore;

namespace Shop.Users.Data;

/// <summary>
/// Users' database for singletons (the stamp source, the record of unpublished stamps), each use in a scope of its
/// own. A database that does not answer is a <see cref="ServiceUnavailableException"/>, which callers answer 503
/// or try again later, rather than whatever exception the retrying execution strategy wrapped it in.
/// </summary>
public sealed class UsersDatabase(IServiceScopeFactory scopes)
{
    public async Task<T> UseAsync<T>(Func<UsersDbContext, CancellationToken, Task<T>> use, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UsersDbContext>();
        try
        {
            return await use(db, ct);
        }
        catch (Exception e) when (ShopDatabaseExtensions.IsUnavailability(e))
        {
            throw new ServiceUnavailableException("users database", e);
        }
    }
}
