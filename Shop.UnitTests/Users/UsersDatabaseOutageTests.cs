using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Shop.ServiceDefaults;
using Shop.Users.Data;

namespace Shop.UnitTests.Users;

/// <summary>
/// Users meets its database's outage in two ways: through <see cref="UsersDatabase"/> (the stamp checks of signed-in
/// requests) and in a request's own query (sign-in, registration), whose Npgsql error reaches the error handler as is.
/// Each was logged under a name of its own ("users database", "database"): one outage, two Warnings and two end lines.
/// Built as Users builds them, against a closed port on this machine (a real refused connection).
/// </summary>
public sealed class UsersDatabaseOutageTests
{
    [Fact]
    public async Task A_database_outage_met_through_UsersDatabase_and_through_a_requests_own_query_is_one_warning()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["ConnectionStrings:usersdb"] = "Host=127.0.0.1;Port=1;Database=users;Username=users;Password=unused;Pooling=false";
        builder.Services.AddLogging(l => l.AddFakeLogging()).AddSingleton<TimeProvider>(new FakeTimeProvider()).AddShopProblemDetails();
        builder.AddShopDbContext<UsersDbContext, HostApplicationBuilder>("usersdb");
        builder.Services.AddSingleton<UsersDatabase>();
        using var host = builder.Build();
        var handler = host.Services.GetServices<IExceptionHandler>().OfType<ShopExceptionHandler>().Single();

        var failures = new List<Exception?>();
        for (var i = 0; i < 3; i++)
        {
            failures.Add(await Record.ExceptionAsync(() => host.Services.GetRequiredService<UsersDatabase>().UseAsync((db, c) => db.Users.AnyAsync(c), ct)));
            await using var scope = host.Services.CreateAsyncScope();
            failures.Add(await Record.ExceptionAsync(() => scope.ServiceProvider.GetRequiredService<UsersDbContext>().Users.AnyAsync(ct)));
        }
        foreach (var failure in failures)
        {
            Assert.NotNull(failure);
            var http = new DefaultHttpContext { RequestServices = host.Services };
            http.Response.Body = new MemoryStream();
            Assert.True(await handler.TryHandleAsync(http, failure, ct));
            Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        }

        var said = host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == typeof(OutageLog).FullName && r.Level >= LogLevel.Information).ToList();
        Assert.True(said.Count == 1, $"{said.Count} Warnings for one outage of Users' database: " + string.Join(" | ", said.Select(r => r.Message.Split(". Requests")[0])));
        Assert.StartsWith("Dependency unavailable: users database (", said[0].Message);
        // The reason an operator can act on (the refused connection), not the retrying strategy's wrapper around it.
        Assert.Contains("refused", said[0].Message.Split(". Requests")[0], StringComparison.OrdinalIgnoreCase);
    }
}
