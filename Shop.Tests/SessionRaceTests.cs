using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A refresh and a sign-out of one session at the same moment. Alone, because the test holds a lock on the
/// users table for a moment, which every other sign-in would wait for.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class SessionRaceTests(ShopApp shop)
{
    /// <summary>
    /// A refresh consumes its token, reads the account, then stores the session's next token. A sign-out that
    /// revokes the session in between must still end that next token: otherwise the refresh's caller (a thief
    /// refreshing as the owner signs out) keeps a session that works for the refresh token's whole lifetime.
    /// The test stops the refresh at the account read (a lock on the users table), signs out, then lets it go.
    /// </summary>
    [Fact]
    public async Task A_refresh_caught_mid_way_by_a_sign_out_leaves_no_refresh_token_that_works()
    {
        var (_, user) = await shop.NewUserAsync();
        var (access, refresh) = await shop.Client().SignInAsync(user.Email, user.Password);
        await using var holder = await shop.OpenDatabaseAsync("usersdb");
        await using var watcher = await shop.OpenDatabaseAsync("usersdb");
        Task<HttpResponseMessage> refreshing, signingOut;
        await using (var hold = await holder.BeginTransactionAsync())
        {
            await Sql.ExecuteAsync(holder, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
            refreshing = shop.Client().RefreshAsync(refresh);
            await Sql.UntilALockIsAwaitedAsync(watcher, "the refresh", holder: holder);
            signingOut = shop.Client(access).PostJsonAsync("/users/logout", null);
            // The sign-out either finishes now or waits for the refresh to finish: let the refresh go then.
            // The refresh's own backend holds the advisory lock the sign-out waits for (no other test takes it).
            await Sql.UntilALockIsAwaitedAsync(watcher, "the sign-out", waitEvent: "advisory", done: () => signingOut.IsCompleted);
            await hold.CommitAsync();
        }
        await (await signingOut).ExpectAsync(204);
        var refreshed = await refreshing;
        if (refreshed.StatusCode == System.Net.HttpStatusCode.OK)
        {
            var next = (await refreshed.JsonAsync()).GetProperty("refresh_token").GetString()!;
            await (await shop.Client().RefreshAsync(next)).ExpectProblemAsync(401);
        }
        else
        {
            await refreshed.ExpectProblemAsync(401);
        }
        await (await shop.Client().RefreshAsync(refresh)).ExpectProblemAsync(401);
    }
}
