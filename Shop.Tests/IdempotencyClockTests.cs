using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Orders.Data;
using Shop.Orders.Services;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Orders' Idempotency-Key store against the app's real database, run by a host whose clock is off the
/// database server's (a container on another node, a VM after suspend): whether a claim is abandoned is the
/// database's judgement, made by the one clock that stamped it.
/// </summary>
public sealed class IdempotencyClockTests(ShopApp shop)
{
    private const string Hash = "clock-test";

    [Fact]
    public async Task A_claim_still_running_is_not_taken_over_by_a_host_whose_clock_is_ahead_of_the_database()
    {
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        var (user, key, running) = await ClaimStampedAsync(db, "now()");
        try
        {
            var claim = await Store(db, hostClockOff: TimeSpan.FromMinutes(5))
                .ClaimAsync(user, key, Hash, DateTime.UtcNow.AddMinutes(2), TestContext.Current.CancellationToken);

            Assert.True(claim is IdempotencyClaim.StillProcessing,
                $"a duplicate of a claim the database stamped just now got {claim} (order {running}) from a host 5 minutes ahead");
        }
        finally
        {
            await ForgetAsync(db, user, key);
        }
    }

    [Fact]
    public async Task An_abandoned_claim_is_taken_over_by_a_host_whose_clock_is_behind_the_database()
    {
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        var (user, key, abandoned) = await ClaimStampedAsync(db, "now() - interval '2 minutes'");
        try
        {
            var claim = await Store(db, hostClockOff: TimeSpan.FromMinutes(-5))
                .ClaimAsync(user, key, Hash, DateTime.UtcNow.AddMinutes(2), TestContext.Current.CancellationToken);

            Assert.Equal(new IdempotencyClaim.Claimed(abandoned, GuardWritten: false), claim);
        }
        finally
        {
            await ForgetAsync(db, user, key);
        }
    }

    /// <summary>A claim in progress, as a crashed or still-running placement left it, stamped by the database at <paramref name="stampedAt"/>.</summary>
    private static async Task<(int User, string Key, Guid OrderId)> ClaimStampedAsync(Npgsql.NpgsqlConnection db, string stampedAt)
    {
        // No account behind it: Orders' database keeps no users, and the store reads no orders for a key in progress.
        var (user, key, orderId) = (Random.Shared.Next(1_000_000_000, int.MaxValue), Guid.NewGuid().ToString(), Guid.NewGuid());
        await Sql.ExecuteAsync(db, $"""
            INSERT INTO idempotency_keys (user_id, key, request_hash, order_id, state, created_at, updated_at)
            VALUES (@user, @key, @hash, @order, 'processing', {stampedAt}, {stampedAt})
            """, ("user", user), ("key", key), ("hash", Hash), ("order", orderId));
        return (user, key, orderId);
    }

    private static Task ForgetAsync(Npgsql.NpgsqlConnection db, int user, string key) =>
        Sql.ExecuteAsync(db, "DELETE FROM idempotency_keys WHERE user_id = @user AND key = @key", ("user", user), ("key", key));

    private static IdempotencyStore Store(Npgsql.NpgsqlConnection db, TimeSpan hostClockOff) => new(
        new OrdersDbContext(new DbContextOptionsBuilder<OrdersDbContext>().UseNpgsql(db).UseSnakeCaseNamingConvention().Options),
        NullLogger<IdempotencyStore>.Instance,
        new OffClock(hostClockOff));

    /// <summary>The host's clock, <paramref name="off"/> from the real time the database server keeps.</summary>
    private sealed class OffClock(TimeSpan off) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + off;
    }
}
