using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

public static class ShopDatabaseExtensions
{
    /// <summary>
    /// The service's PostgreSQL database through Aspire's EF Core integration (pooling, health check,
    /// tracing), with a short connect timeout so a database outage turns into a fast 503, not a hang.
    /// </summary>
    public static TBuilder AddShopDbContext<TContext, TBuilder>(this TBuilder builder, string connectionName)
        where TContext : DbContext
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddNpgsqlDbContext<TContext>(connectionName, settings =>
        {
            if (settings.ConnectionString is { Length: > 0 } cs)
            {
                settings.ConnectionString = new NpgsqlConnectionStringBuilder(cs)
                {
                    Timeout = 5,
                    CommandTimeout = 20,
                    MaxPoolSize = 100,
                    // The services run the same few statements all day: prepared once per
                    // connection, PostgreSQL stops parsing and planning them on every call.
                    MaxAutoPrepare = 64,
                    AutoPrepareMinUsages = 2,
                }.ConnectionString;
            }
            // Retries would re-run non-idempotent work; the services own their transactions instead.
            settings.DisableRetry = true;
        });
        builder.Services.ConfigureDbContext<TContext>((services, options) =>
            options.UseLoggerFactory(new ExpectedConflictsLoggerFactory(services.GetRequiredService<ILoggerFactory>())));
        return builder;
    }

    /// <summary>
    /// Applies pending EF Core migrations before the service takes traffic. Replicas start together,
    /// so the migration runs under a PostgreSQL advisory lock: the first replica migrates, the others
    /// wait and then find nothing to do. (EF Core's own migration lock did not keep two Inventory
    /// replicas apart: both applied the same migration and the second crashed on the history row.)
    /// </summary>
    public static async Task MigrateDatabaseAsync<TContext>(this WebApplication app) where TContext : DbContext
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Shop.Migrations");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var migrationLock = await MigrationLock.AcquireAsync(db.Database.GetConnectionString()!, typeof(TContext).Name);
                // On an empty database EF reads the history table before creating it and logs the failed
                // read at Error: a red entry on every first start. Creating it first (idempotent) avoids that.
                await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript());
                await db.Database.MigrateAsync();
                logger.LogInformation("{Context} schema is up to date", typeof(TContext).Name);
                return;
            }
            catch (NpgsqlException e) when (attempt < 10 && e.IsTransient)
            {
                logger.LogWarning("Database not reachable yet (attempt {Attempt}); retrying", attempt);
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
    }

    /// <summary>
    /// Saves, answering false when a unique constraint refuses the change — for the callers that turn
    /// that into a 409. EF Core logs the failed command and save at Error before the caller sees the
    /// exception; here they are logged at Debug, as the expected outcome they are. Any other failure
    /// still throws and is logged at Error.
    /// </summary>
    public static async Task<bool> TrySaveUniqueAsync(this DbContext db, CancellationToken ct)
    {
        // Set inside this async method, the flag flows to EF's logging beneath it and never back to the caller.
        ExpectedConflictsLoggerFactory.UniqueViolationExpected.Value = true;
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (ExpectedConflictsLoggerFactory.IsUniqueViolation(e))
        {
            return false;
        }
    }

    /// <summary>Lowers EF Core's Error entries for a unique violation to Debug, only inside <see cref="TrySaveUniqueAsync"/>.</summary>
    private sealed class ExpectedConflictsLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public static readonly AsyncLocal<bool> UniqueViolationExpected = new();

        public static bool IsUniqueViolation(Exception? e)
        {
            for (; e is not null; e = e.InnerException)
            {
                if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
                {
                    return true;
                }
            }
            return false;
        }

        public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName));

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The application's factory: the host disposes it.
        }

        private sealed class Logger(ILogger inner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

            public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // EF logs the failed command without its exception, so inside TrySaveUniqueAsync it is
                // lowered whatever the cause: a failure other than a unique violation still logs the
                // failed save (SaveChangesFailed, with the exception) at Error, and throws.
                if (UniqueViolationExpected.Value && logLevel >= LogLevel.Error &&
                    (eventId.Id == RelationalEventId.CommandError.Id || IsUniqueViolation(exception)))
                {
                    logLevel = LogLevel.Debug;
                }
                if (inner.IsEnabled(logLevel))
                {
                    inner.Log(logLevel, eventId, state, exception, formatter);
                }
            }
        }
    }

    /// <summary>A session-level advisory lock on its own unpooled connection; closing the connection releases it.</summary>
    private sealed class MigrationLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public static async Task<MigrationLock> AcquireAsync(string connectionString, string name)
        {
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, CommandTimeout = 120 }.ConnectionString);
            try
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext(@name))", connection);
                command.Parameters.AddWithValue("name", "shop-migrations:" + name);
                await command.ExecuteNonQueryAsync();
                return new MigrationLock(connection);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build a service's DbContext without starting the service
/// (which needs Aspire's connection strings). Each service derives one line from it.
/// </summary>
public abstract class NpgsqlDesignTimeFactory<TContext> : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<TContext>
    where TContext : DbContext
{
    public TContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<TContext>().UseNpgsql("Host=localhost;Database=design_time").Options;
        return (TContext)Activator.CreateInstance(typeof(TContext), options)!;
    }
}
