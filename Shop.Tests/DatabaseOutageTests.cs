using System.Net;
using Aspire.Hosting.Testing;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Shop.ServiceDefaults;
using Shop.Tests.Infrastructure;
using Shop.Users.Data;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A service's own database away, then back, in the booted app (Users' PostgreSQL stopped and started through Aspire's
/// resource commands). Users meets it two ways: a signed-in request's security-stamp check reads the database through
/// <c>UsersDatabase</c> when Redis does not hold the account's stamp, and a request's own query (the admin's list of
/// users, never cached) reads it directly. Runs alone with the fault tests: it takes Users' database away.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class DatabaseOutageTests(ShopApp shop)
{
    private const string Outage = "Dependency unavailable: users database";

    /// <summary>
    /// Many requests refused while the database is away, met both ways: each client gets the 503 with Retry-After, and
    /// Users' log says the outage once (one Warning, no line per request), and once none has been refused for 10 s, one
    /// Information line ends it.
    /// </summary>
    [Fact]
    public async Task A_database_outage_met_by_many_requests_both_ways_is_one_warning_and_one_line_once_it_is_over()
    {
        var (checkedInDatabase, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await (await admin.GetAsync("/users/?limit=1")).ExpectAsync(200);
        await WaitUntilNoOutageIsOpenAsync();
        var from = DateTimeOffset.UtcNow;
        var log = new LogTail(shop.ResourceLogPath("users"));
        await shop.StopResourceAsync("users-db");
        try
        {
            await ForgetStampAsync(user.Id);
            for (var i = 0; i < 20; i++)
            {
                await (await checkedInDatabase.GetAsync("/users/me")).ExpectUnavailableAsync("database");
                await (await admin.GetAsync("/users/?limit=1")).ExpectUnavailableAsync("database");
            }
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("users-db");
        }
        var back = await FaultTests.UntilAsync(() => checkedInDatabase.GetAsync("/users/me"), r => r.StatusCode == HttpStatusCode.OK);
        await back.ExpectAsync(200);

        var end = await log.WaitForAsync("Dependency users database: no request refused for 10 s");
        Assert.Contains("info: Shop.ServiceDefaults.OutageLog", end);
        // Its summary (every 30 s while refusals go on) may come on a slow machine; it is not a second outage.
        var warnings = (await shop.ErrorEntriesAsync(["users"], from, containing: "Dependency unavailable", warnings: true, linesPerEntry: 2))
            .Where(e => !e.Contains("more requests refused", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 1, $"{warnings.Count} Warnings for one outage of Users' database, 40 requests refused:\n" + string.Join("\n", warnings));
        Assert.Contains(Outage + " (", warnings[0]);
        // EF Core's own entries for each refused or broken connection (Connection, Command, Query) were an Error per request.
        var efErrors = await shop.ErrorEntriesAsync(["users"], from, containing: "Microsoft.EntityFrameworkCore", linesPerEntry: 2);
        Assert.True(efErrors.Count == 0, $"{efErrors.Count} EF Core Errors in Users' log for one outage of its database:\n" + string.Join("\n", efErrors.Take(6)));
    }

    /// <summary>
    /// A restarted database leaves every connection idle in the pool dead (the server ends each with 57P01 "terminating
    /// connection due to administrator command"), and each would fail one more request. Here the first stamp check through
    /// <c>UsersDatabase</c> after the restart (a wrapped Npgsql error, for which the service's error handler clears no
    /// pool) meets one and is answered 503; Npgsql itself then hands out no other dead one (seen with a full pool of 12
    /// terminated): no more than that one request fails once the database is back.
    /// </summary>
    [Fact]
    public async Task After_the_database_restarts_at_most_one_stamp_check_fails_on_a_dead_pooled_connection()
    {
        var (client, user) = await shop.NewUserAsync();
        // Connections idle in Users' pool: reads of the database at once (the list of users is never cached).
        var admin = await shop.AdminAsync();
        var reads = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ => admin.GetAsync("/users/?limit=200")));
        Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await shop.StopResourceAsync("users-db");
        await shop.StartAndWaitHealthyAsync("users-db");
        await ForgetStampAsync(user.Id);

        var answers = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var response = await client.GetAsync("/users/me");
            answers.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }
            await response.ExpectUnavailableAsync("database");
        }
        Assert.True(answers[^1].StartsWith("200", StringComparison.Ordinal), "no stamp check worked after the restart:\n" + string.Join("\n", answers));
        Assert.True(answers.Count <= 2, $"{answers.Count - 1} stamp checks failed after the database was back:\n" + string.Join("\n", answers));
    }

    /// <summary>
    /// Connections broken at the socket (a crashed server, a dropped network path: each the next use's "Exception while
    /// reading from stream"), all of them idle in the pool: only the first use fails, also through <c>UsersDatabase</c>
    /// (the stamp checks), whose wrapped failure the error handler clears no pool for (it does for a request's own
    /// query): Npgsql hands out no other connection of the broken ones. The break is real (the first use fails), so a
    /// pass is not a proxy that broke nothing. Users' database as Users builds it, reaching the app's PostgreSQL through
    /// a proxy that resets every open connection.
    /// </summary>
    [Fact]
    public async Task Connections_broken_at_the_socket_fail_at_most_one_use_of_UsersDatabase()
    {
        var ct = TestContext.Current.CancellationToken;
        var (proxy, builder) = await UsersDatabaseThroughProxyAsync(ct);
        await using var _ = proxy;
        builder.Services.AddLogging().AddShopProblemDetails();
        builder.Services.AddSingleton<UsersDatabase>();
        using var users = builder.Build();
        var database = users.Services.GetRequiredService<UsersDatabase>();
        var handler = users.Services.GetServices<IExceptionHandler>().OfType<ShopExceptionHandler>().Single();
        // Several connections open at once, then idle in the pool.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            database.UseAsync((db, c) => db.Database.ExecuteSqlRawAsync("SELECT pg_sleep(0.3)", c), ct)));

        proxy.ResetAll();
        var failures = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var failure = await Record.ExceptionAsync(() => database.UseAsync((db, c) => db.Users.AnyAsync(c), ct));
            if (failure is null)
            {
                break;
            }
            // Answered as a stamp check's failure is: the 503 of the database's outage.
            var http = new DefaultHttpContext { RequestServices = users.Services };
            http.Response.Body = new MemoryStream();
            Assert.True(await handler.TryHandleAsync(http, failure, ct));
            Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
            failures.Add(failure.GetBaseException().Message);
        }
        Assert.True(failures.Count == 1, $"{failures.Count} uses failed on dead pooled connections (expected the first only): " + string.Join(" | ", failures));
    }

    /// <summary>
    /// EF Core logs a statement that failed (<c>CommandError</c>) without its exception, so its level cannot follow the
    /// cause from the entry alone: a connection broken at the socket (an outage, the 503 said once by <c>OutageLog</c>)
    /// is below Error in the EF categories, while a statement the database refused as wrong SQL is still an Error there,
    /// with its cause. Users' database as Users builds it (<c>AddShopDbContext</c>), through a proxy that resets every
    /// open connection.
    /// </summary>
    [Fact]
    public async Task EF_logs_a_broken_connection_below_error_and_a_real_sql_error_at_error()
    {
        var ct = TestContext.Current.CancellationToken;
        var (proxy, builder) = await UsersDatabaseThroughProxyAsync(ct);
        await using var _ = proxy;
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug)).AddFakeLogging();
        using var users = builder.Build();
        var log = users.Services.GetRequiredService<FakeLogCollector>();
        async Task<Exception?> QueryAsync(Func<UsersDbContext, Task> query)
        {
            await using var scope = users.Services.CreateAsyncScope();
            return await Record.ExceptionAsync(() => query(scope.ServiceProvider.GetRequiredService<UsersDbContext>()));
        }
        List<string> EfErrors() => log.GetSnapshot()
            .Where(e => e.Level >= LogLevel.Error && e.Category?.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal) == true)
            .Select(e => $"{e.Category}[{e.Id.Id}] {e.Message} {e.Exception?.GetBaseException().Message}").ToList();
        Assert.Null(await QueryAsync(db => db.Users.AnyAsync(ct)));

        var wrong = await QueryAsync(db => db.Users.FromSqlRaw("SELECT * FROM no_such_table").ToListAsync(ct));
        Assert.True(wrong is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UndefinedTable }, $"wrong SQL did not fail as such: {wrong}");
        var errors = EfErrors();
        Assert.Contains(errors, e => e.StartsWith("Microsoft.EntityFrameworkCore.Database.Command[20102]", StringComparison.Ordinal)
            && e.Contains("no_such_table", StringComparison.Ordinal) && e.Contains("42P01", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Microsoft.EntityFrameworkCore.Query[10100]", StringComparison.Ordinal));

        proxy.ResetAll();
        var broken = await QueryAsync(db => db.Users.AnyAsync(ct));
        Assert.True(broken is not null && ShopDatabaseExtensions.IsUnavailability(broken), $"the reset connection's query did not fail as an outage: {broken}");
        var outageErrors = EfErrors().Skip(errors.Count).ToList();
        Assert.True(outageErrors.Count == 0, "EF Core logged a broken connection as an Error:\n" + string.Join("\n", outageErrors));
        Assert.Contains(log.GetSnapshot(), e => e.Id.Id == RelationalEventId.CommandError.Id && e.Level == LogLevel.Debug && e.Exception is not null);
    }

    /// <summary>
    /// A host with Users' database as Users builds it (<c>AddShopDbContext</c>), reaching the app's PostgreSQL through a
    /// proxy that can reset every open connection; the caller adds the rest and disposes of the proxy.
    /// </summary>
    private async Task<(TcpFaultProxy Proxy, HostApplicationBuilder Builder)> UsersDatabaseThroughProxyAsync(CancellationToken ct)
    {
        var direct = new Npgsql.NpgsqlConnectionStringBuilder(await shop.App.GetConnectionStringAsync("usersdb", ct));
        var proxy = TcpFaultProxy.Start($"{direct.Host}:{direct.Port}");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var viaProxy = new Npgsql.NpgsqlConnectionStringBuilder(direct.ConnectionString) { Host = "127.0.0.1", Port = int.Parse(proxy.Endpoint.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture) };
        builder.Configuration["ConnectionStrings:usersdb"] = viaProxy.ConnectionString;
        builder.AddShopDbContext<UsersDbContext, HostApplicationBuilder>("usersdb");
        return (proxy, builder);
    }

    /// <summary>Users' stamp checks for the account then read its database: Redis does not hold its stamp.</summary>
    private async Task ForgetStampAsync(int userId)
    {
        await using var redis = await shop.ConnectRedisAsync();
        await redis.GetDatabase(0).KeyDeleteAsync($"auth:stamp:{userId}");
    }

    /// <summary>
    /// An earlier test's outage of Users' database, not over yet, would take this one's Warning. It is over at its end line,
    /// or when the Users process that said it stopped (a restart: no end line ever comes). Read again until then: the end
    /// line may reach the kept log just after a read.
    /// </summary>
    private async Task WaitUntilNoOutageIsOpenAsync()
    {
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);
        var lines = await Eventually.ReadUntilAsync(() => shop.LogLinesSoFarAsync("users", since), lines => !OutageOpen(lines),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        Assert.False(OutageOpen(lines), "an earlier outage of Users' database was still open after 60 s:\n" + string.Join("\n", lines.TakeLast(20)));

        static bool OutageOpen(List<string> lines) =>
            lines.FindLastIndex(l => l.Contains(Outage, StringComparison.Ordinal)) is var began and >= 0
            && lines.FindLastIndex(l => l.Contains("Dependency users database: no request refused", StringComparison.Ordinal)) < began
            && lines.FindLastIndex(l => l.Contains("Now listening on:", StringComparison.Ordinal)) < began;
    }
}
