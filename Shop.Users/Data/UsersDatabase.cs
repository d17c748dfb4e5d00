using Microsoft.EntityFrameworkCore;

namespace Shop.Users.Data;

/// <summary>
/// Users' database for singletons (the stamp source, the record of unpublished stamps), each use in a scope of its
/// own. A database that does not answer is a <see cref="ServiceUnavailableException"/>, which callers answer 503
/// or try again later, rather than whatever exception EF Core wrapped it in; named as the error
/// handler names a request's own query's failure (<see cref="OwnDatabase"/>), so the outage is one.
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
            throw OwnDatabase.Of(scope.ServiceProvider).Unavailable(e);
        }
    }
}
