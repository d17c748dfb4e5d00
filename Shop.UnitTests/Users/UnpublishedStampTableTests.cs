using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.ServiceDefaults;
using Shop.Users.Data;
using Shop.Users.Services;

namespace Shop.UnitTests.Users;

/// <summary>
/// The record of unpublished stamps when Users' database does not answer (a closed port on this machine: a real refused
/// connection). Behind a retrying execution strategy, as the services run EF Core, the refusal arrives wrapped in an
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
