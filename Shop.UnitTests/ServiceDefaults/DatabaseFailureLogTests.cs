using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// A service's DbContext as <c>AddShopDbContext</c> builds it: EF's failures are logged again with their cause (wrong SQL
/// at Error: <c>DatabaseOutageTests</c>, full stack), without EF building event data for the statements that succeed.
/// The database is a closed port of this machine (a real refused connection).
/// </summary>
public sealed class DatabaseFailureLogTests
{
    private sealed class ProbeDbContext(DbContextOptions<ProbeDbContext> options) : DbContext(options);

    private static IHost Build()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
        builder.Configuration["ConnectionStrings:probedb"] = "Host=127.0.0.1;Port=1;Database=probe;Username=probe;Password=probe";
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug)).AddFakeLogging();
        builder.AddShopDbContext<ProbeDbContext, HostApplicationBuilder>("probedb");
        return builder.Build();
    }

    /// <summary>
    /// With any interceptor registered EF Core builds its event data for every statement it runs (7.9 KB more allocated per
    /// statement, docs/performance.md Round 37), on every order's and every read's path; the failures need none.
    /// </summary>
    [Fact]
    public void The_services_DbContext_has_no_interceptor_that_makes_EF_describe_every_statement()
    {
        using var host = Build();
        using var scope = host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ProbeDbContext>();
        var interceptors = db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors?.ToList() ?? [];
        Assert.True(interceptors.Count == 0, "interceptors registered: " + string.Join(", ", interceptors.Select(i => i.GetType().Name)));
    }

    [Fact]
    public async Task A_refused_connection_is_logged_with_its_cause_below_error()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build();
        await using var scope = host.Services.CreateAsyncScope();
        var failure = await Record.ExceptionAsync(() => scope.ServiceProvider.GetRequiredService<ProbeDbContext>().Database.SqlQuery<int>($"SELECT 1").ToListAsync(ct));
        Assert.True(failure is not null && ShopDatabaseExtensions.IsUnavailability(failure), $"the query did not fail as an outage: {failure}");
        var log = host.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        Assert.Contains(log, e => e.Id.Id == RelationalEventId.ConnectionError.Id && e.Level == LogLevel.Debug && e.Exception is Npgsql.NpgsqlException);
        Assert.DoesNotContain(log, e => e.Level >= LogLevel.Error);
    }
}
