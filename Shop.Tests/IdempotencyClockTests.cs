using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
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

    /// <summary>A key older than its 24 hours by the database's clock is freed and claimed afresh, with a new order id and its guard.</summary>
    [Fact]
    public async Task A_key_past_its_lifetime_is_freed_and_claimed_afresh()
    {
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        var (user, key, old) = await ClaimStampedAsync(db, "now() - interval '25 hours'");
        Guid? claimedOrder = null;
        try
        {
            var claim = await Store(db, hostClockOff: TimeSpan.Zero)
                .ClaimAsync(user, key, Hash, DateTime.UtcNow.AddMinutes(2), TestContext.Current.CancellationToken);

            var claimed = Assert.IsType<IdempotencyClaim.Claimed>(claim);
            claimedOrder = claimed.OrderId;
            Assert.NotEqual(old, claimed.OrderId);
            Assert.True(claimed.GuardWritten);
        }
        finally
        {
            await ForgetAsync(db, user, key);
            if (claimedOrder is { } order)
            {
                await Sql.ExecuteAsync(db, "DELETE FROM stock_releases WHERE order_id = @order", ("order", order));
            }
        }
    }

    /// <summary>
    /// A duplicate waits for the claim it found by reading the key every 100 ms; whether that claim has expired or been
    /// abandoned is decided in the same read. It sent a conditional DELETE and a conditional UPDATE at every poll as well:
    /// three statements where one does, for as long as the first request runs (up to 15 s).
    /// </summary>
    [Fact]
    public async Task A_duplicate_waiting_for_a_running_claim_only_reads_the_key_while_it_waits()
    {
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        var (user, key, _) = await ClaimStampedAsync(db, "now()");
        try
        {
            var statements = new StatementLog();
            // Each look at the host's clock a second later: the 15 s wait is over after a few polls.
            var claim = await Store(db, new LeapingClock(TimeSpan.FromSeconds(1)), statements)
                .ClaimAsync(user, key, Hash, DateTime.UtcNow.AddMinutes(2), TestContext.Current.CancellationToken);

            Assert.True(claim is IdempotencyClaim.StillProcessing, $"got {claim}");
            var polls = statements.Texts.Skip(1).ToList(); // the claim's INSERT first
            Assert.True(polls.Count > 1, $"the duplicate polled {polls.Count} time(s)");
            Assert.True(polls.All(t => t.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)),
                $"while waiting the duplicate sent {polls.Count} statements, not only reads: {string.Join(" | ", polls.Select(t => t.Split('\n')[0]))}");
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

    private static IdempotencyStore Store(Npgsql.NpgsqlConnection db, TimeSpan hostClockOff) => Store(db, new OffClock(hostClockOff));

    private static IdempotencyStore Store(Npgsql.NpgsqlConnection db, TimeProvider clock, StatementLog? statements = null)
    {
        var options = new DbContextOptionsBuilder<OrdersDbContext>().UseNpgsql(db).UseSnakeCaseNamingConvention();
        if (statements is not null)
        {
            options.AddInterceptors(statements);
        }
        return new(new OrdersDbContext(options.Options), NullLogger<IdempotencyStore>.Instance, clock);
    }

    /// <summary>The text of every command the store's context sends, in order.</summary>
    private sealed class StatementLog : DbCommandInterceptor
    {
        public List<string> Texts { get; } = [];

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Texts.Add(command.CommandText);
            return ValueTask.FromResult(result);
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            Texts.Add(command.CommandText);
            return ValueTask.FromResult(result);
        }
    }

    /// <summary>A host clock that moves on by <paramref name="step"/> each time it is read.</summary>
    private sealed class LeapingClock(TimeSpan step) : TimeProvider
    {
        private DateTimeOffset _now = TimeProvider.System.GetUtcNow();

        public override DateTimeOffset GetUtcNow() => _now += step;
    }

    /// <summary>The host's clock, <paramref name="off"/> from the real time the database server keeps.</summary>
    private sealed class OffClock(TimeSpan off) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + off;
    }
}
