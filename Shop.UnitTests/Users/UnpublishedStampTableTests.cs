using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Shop.ServiceDefaults;
using Shop.Users.Data;
using Shop.Users.Services;
using StackExchange.Redis;

namespace Shop.UnitTests.Users;

/// <summary>
/// The record of unpublished stamps when Users' database does not answer (a closed port on this machine: a real refused
/// connection). Behind a retrying execution strategy (as the services ran EF Core before their own strategy, which runs a
/// read again only after a broken connection) the refusal arrives wrapped in an
/// <see cref="InvalidOperationException"/>, which a catch of <c>NpgsqlException</c> alone missed: the publication of a
/// stamp that Redis had taken then failed the committed change's request with a 500, before its audit and its cache
/// invalidation, and a blip at start stopped Users from starting.
/// </summary>
public sealed class UnpublishedStampTableTests
{
    private static UnpublishedStampTable UnreachableTable()
    {
        var services = new ServiceCollection();
        services.AddDbContext<UsersDbContext>(o => o.UseNpgsql("Host=127.0.0.1;Port=1;Timeout=2;Pooling=false",
            npgsql => npgsql.EnableRetryOnFailure(1, TimeSpan.FromMilliseconds(10), null)));
        var provider = services.BuildServiceProvider();
        var scopes = provider.GetRequiredService<IServiceScopeFactory>();
        return new UnpublishedStampTable(new UsersDatabase(scopes), NullLogger<UnpublishedStampTable>.Instance);
    }

    [Fact]
    public async Task An_unreachable_database_is_an_unavailability_to_read_and_never_an_exception_to_forget()
    {
        var table = UnreachableTable();
        await Assert.ThrowsAsync<ServiceUnavailableException>(() => table.ReadAsync(CancellationToken.None));
        var forgetting = await Record.ExceptionAsync(() => table.ForgetAsync(1, 1));
        Assert.True(forgetting is null, $"ForgetAsync threw {forgetting?.GetType().Name}: {forgetting?.Message}");
    }
}

/// <summary>
/// Users' sweep of recorded stamps while its database does not answer. Its start reads the table (before Users listens)
/// and its first pass reads it again one interval later: each logged its own Warning, two lines for the one outage.
/// </summary>
public sealed class UnpublishedStampSweepTests
{
    [Fact]
    public async Task A_start_and_first_pass_that_find_the_database_away_are_one_run_of_failures_and_one_warning()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<UsersDbContext>(o => o.UseNpgsql("Host=127.0.0.1;Port=1;Timeout=2;Pooling=false",
            npgsql => npgsql.EnableRetryOnFailure(1, TimeSpan.FromMilliseconds(10), null)));
        services.AddSingleton<UsersDatabase>();
        services.AddSingleton<IUnpublishedStampRecord, UnpublishedStampTable>();
        await using var provider = services.BuildServiceProvider();
        await using var redis = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=200");
        var log = new FakeLogger<UnpublishedStampSweep>();
        var sweep = new UnpublishedStampSweep(new SecurityStamps(redis, provider, NullLogger<SecurityStamps>.Instance), log);

        await sweep.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            // The start's failure, then the first pass's, an interval (5 s) later. The bound only keeps a hang from
            // holding the suite.
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (log.Collector.Count < 2)
            {
                await Task.Delay(50, patience.Token);
            }
        }
        finally
        {
            await sweep.StopAsync(CancellationToken.None);
        }

        var entries = log.Collector.GetSnapshot();
        var warning = Assert.Single(entries, e => e.Level >= LogLevel.Warning);
        Assert.IsType<ServiceUnavailableException>(warning.Exception);
        Assert.Contains(entries, e => e.Level == LogLevel.Debug);
    }
}
