using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Runs alone (after the parallel tests, never beside the fault tests), so that the Error entries in
/// its time window can only come from its own requests: other tests deliberately cause real errors.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuietLogsCollection
{
    public const string Name = "Quiet logs (alone, reads the services' logs)";
}

/// <summary>
/// A healthy system shows no red in the dashboard: the outcomes the services expect and answer (a
/// first start on an empty database, a duplicate email or sku answered 409, a wrong password, too
/// little stock) are not logged at Error, so an Error entry always means a real failure.
/// </summary>
[Collection(QuietLogsCollection.Name)]
public sealed class QuietLogsTests(ShopApp shop)
{
    [Fact]
    public async Task A_first_start_on_empty_databases_logs_no_errors()
    {
        // Every test run starts on fresh databases (Shop:EphemeralData), so this window holds the first migration.
        var errors = await ErrorEntriesAsync(shop.StartedAt, shop.HealthyAt);
        Assert.True(errors.Count == 0, "Error entries while the app started:\n" + string.Join("\n\n", errors));
    }

    /// <summary>
    /// EF Core warns, once per process, about a query it cannot run predictably (a row limit without an order): a
    /// warning on every start of a service, for the operator to chase, that no request caused. None is written.
    /// </summary>
    [Fact]
    public async Task No_service_logs_an_ef_core_query_warning()
    {
        // The jobs that run at start (the retention pass with its legacy-secret scan, the expiry and release sweeps)
        // have run their queries once by the time the app is healthy and a request has been answered.
        var admin = await shop.AdminAsync();
        await (await admin.GetAsync("/orders/?limit=1")).ExpectAsync(200);
        await (await admin.GetAsync("/inventory/?limit=1")).ExpectAsync(200);
        await (await admin.GetAsync("/orders/webhooks")).ExpectAsync(200);
        // Warnings only: a query that failed (category Query too, at fail:) is what the fault tests, which ran before
        // this one in the same app, cause on purpose when they take a database away.
        var warnings = await shop.ErrorEntriesAsync(ShopAppHost.ServiceNames, shop.StartedAt,
            containing: "warn: Microsoft.EntityFrameworkCore.Query", linesPerEntry: 2, warnings: true);
        Assert.True(warnings.Count == 0, "EF Core query warnings:\n" + string.Join("\n\n", warnings));
    }

    [Fact]
    public async Task An_ordinary_session_with_expected_conflicts_logs_no_errors()
    {
        var from = DateTimeOffset.UtcNow;
        var (shopper, user) = await shop.NewUserAsync();
        await (await shop.Client().PostJsonAsync("/users/register", new { name = "Twin", email = user.Email, password = "another-password-1" })).ExpectProblemAsync(409);
        await (await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "wrong-password-1" })).ExpectProblemAsync(401);
        await (await shop.Client().PostJsonAsync("/users/login", new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "wrong-password-1" })).ExpectProblemAsync(401);
        await shop.Client().LoginAsync(user.Email, user.Password);

        var sku = await shop.NewItemAsync(qty: 2);
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync("/inventory/", new { sku, name = "Same sku again", price = 1.00m, qty = 1 })).ExpectProblemAsync(409);
        // With a subscriber, so the window holds a dispatcher pass with work to do and a delivery: a failed pass is
        // retried 5 s later and a failed lane's rows after their lease, so their errors would otherwise show only
        // as late deliveries.
        await using var receiver = await WebhookReceiver.StartAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        var orderId = (await shopper.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString();
        Assert.True(await Eventually.HoldsAsync(() => receiver.Received.Any(r => r.OrderId == orderId), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100)),
            "the order's webhook was not delivered");
        await (await admin.DeleteAsync($"/orders/webhooks/{hookId}")).ExpectAsync(204);
        await (await shopper.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 5 } } })).ExpectProblemAsync(409);
        await (await shopper.GetAsync($"/orders/{Guid.NewGuid()}")).ExpectProblemAsync(404);
        await (await shopper.GetAsync("/users/")).ExpectProblemAsync(403);
        await (await shop.Client().GetAsync("/orders/")).ExpectAsync(401);

        var errors = await ErrorEntriesAsync(from);
        Assert.True(errors.Count == 0, "Error entries during an ordinary session:\n" + string.Join("\n\n", errors));
    }

    private Task<List<string>> ErrorEntriesAsync(DateTimeOffset from, DateTimeOffset? until = null) => shop.ErrorEntriesAsync(ShopAppHost.ServiceNames, from, until);
}
