using Npgsql;
using Shop.ServiceDefaults;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A burst of requests queues for a service's pooled connections instead of opening new ones: the database
/// server sees at most <see cref="DatabaseOptions.MaxPoolSize"/> connections from a service process, however
/// many requests arrive at once (docs/performance.md, Round 11, has what the unbounded pool cost).
/// </summary>
public sealed class ConnectionPoolTests(ShopApp shop)
{
    [Fact]
    public async Task A_burst_of_requests_never_opens_more_database_connections_than_the_pool_allows()
    {
        var shoppers = new List<ShopClient>();
        for (var i = 0; i < 8; i++)
        {
            shoppers.Add((await shop.NewUserAsync()).Client);
        }
        var item = await shop.NewItemAsync(qty: 1000);
        // Each shopper's list is read from the Orders database on every request (not cached).
        await Task.WhenAll(shoppers.Select(s => s.PlaceOrderAsync((item, 1))));

        var peak = 0;
        for (var round = 0; round < 3; round++)
        {
            var burst = Enumerable.Range(0, 160).Select(async i =>
            {
                using var response = await shoppers[i % shoppers.Count].GetAsync("/orders/");
                await response.ExpectAsync(200);
            });
            var sampling = PeakConnectionsAsync("ordersdb", "Shop.Orders", TimeSpan.FromSeconds(2));
            await Task.WhenAll(burst);
            peak = Math.Max(peak, await sampling);
        }

        Assert.True(peak > 0, "No session named Shop.Orders was seen: the pool's sessions are not named after the service, so this test could not see them.");
        var bound = new DatabaseOptions().MaxPoolSize;
        Assert.True(peak <= bound, $"Orders' pool held {peak} connections to its database during the bursts; it allows {bound}.");
    }

    /// <summary>
    /// The most sessions the service's pool had open, polled for <paramref name="during"/>: those named after the
    /// service (its pooled connection string sets the application name; its listener's session and the tests'
    /// own sessions as its role do not).
    /// </summary>
    private async Task<int> PeakConnectionsAsync(string database, string applicationName, TimeSpan during)
    {
        await using var connection = await shop.OpenDatabaseAsync(database);
        var peak = 0;
        var until = DateTime.UtcNow + during;
        while (DateTime.UtcNow < until)
        {
            await using var count = new NpgsqlCommand("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = @name", connection);
            count.Parameters.AddWithValue("name", applicationName);
            peak = Math.Max(peak, (int)(await count.ExecuteScalarAsync())!);
            await Task.Delay(20);
        }
        return peak;
    }
}
