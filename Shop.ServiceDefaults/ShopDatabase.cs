using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Shop.ServiceDefaults;

/// <summary>The <c>Database</c> section every service's connection pool is built from.</summary>
public sealed class DatabaseOptions
{
    /// <summary>
    /// The most connections one service process holds to its database (<c>Database__MaxPoolSize</c>; the AppHost
    /// sets it from <c>Shop:Database:MaxPoolSize</c> and sizes each server's <c>max_connections</c> to match). A
    /// request that finds them all busy waits for one (up to the connect timeout, then 503) instead of opening
    /// another. A database server runs only about as many statements at once as it has cores; Npgsql's default
    /// of 100 let a burst open dozens of new server processes, each starting cold (catalogue caches, PL/pgSQL
    /// compiled again) exactly when the CPU is short: at 32 and 64 clients the order series ran at a third of
    /// its throughput (docs/performance.md, Round 11).
    /// </summary>
    public int MaxPoolSize { get; set; } = 12;
}

/// <summary>
/// Times as PostgreSQL keeps them: <c>timestamptz</c> holds microseconds, .NET's clock ticks in tenths of one, and
/// Npgsql drops the rest when it writes. A time a service writes and also puts in its answer (or a webhook, or a
/// stored answer) is taken from here, so the answer shows the time every later read shows.
/// </summary>
public static class DatabaseTime
{
    /// <summary>Now, to the microsecond.</summary>
    public static DateTime UtcNow => ToMicroseconds(DateTime.UtcNow);

    /// <summary><paramref name="time"/> without what PostgreSQL would drop.</summary>
    public static DateTime ToMicroseconds(DateTime time) => time.AddTicks(-(time.Ticks % TimeSpan.TicksPerMicrosecond));
}

/// <summary>
/// The service's own database as its outage is named (<c>users database</c>), however the outage is met: a query's Npgsql
/// error reaching the error handler, or a wrapper's <see cref="ServiceUnavailableException"/> (Users' <c>UsersDatabase</c>).
/// Two names were two outages to <see cref="OutageLog"/>: two Warnings and two end lines for one database away.
/// Registered by <see cref="ShopDatabaseExtensions.AddShopDbContext"/>.
/// </summary>
public sealed record OwnDatabase(string Name)
{
    /// <summary>A process without a database of its own (the gateway) has no service's name to give one.</summary>
    private static readonly OwnDatabase Unnamed = new("database");

    /// <summary>The database <paramref name="services"/> was built with.</summary>
    public static OwnDatabase Of(IServiceProvider services) => services.GetService<OwnDatabase>() ?? Unnamed;

    /// <summary>From the AppHost's name of a service's database: <c>usersdb</c> is <c>users database</c>.</summary>
    internal static OwnDatabase ForConnection(string connectionName) =>
        new($"{(connectionName.EndsWith("db", StringComparison.Ordinal) ? connectionName[..^2] : connectionName)} database");

    /// <summary>
    /// The database did not answer: the 503 its outage is, under its one name, with the root cause (a refused connection,
    /// a timeout) as the reason the outage log gives, as a request's own query's Npgsql error does, rather than a wrapper
    /// (an execution strategy's "likely due to a transient failure") that says only that the failure looked transient.
    /// </summary>
    public ServiceUnavailableException Unavailable(Exception cause) => new(Name, cause.GetBaseException());
}

public static class ShopDatabaseExtensions
{
    /// <summary>
    /// The service's PostgreSQL database through Aspire's EF Core integration (pooling, health check,
    /// tracing), with a short connect timeout so a database outage turns into a fast 503, not a hang.
    /// </summary>
    /// <param name="sessionSettings">
    /// Settings every connection starts with (<c>-c name=value</c> in the startup packet, so they cost no
    /// round trip), for rules the database enforces with a value the service configures.
    /// </param>
    public static TBuilder AddShopDbContext<TContext, TBuilder>(this TBuilder builder, string connectionName, IReadOnlyDictionary<string, string>? sessionSettings = null)
        where TContext : DbContext
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddStartupSettings<DatabaseOptions>("Database")
            .Validate(o => o.MaxPoolSize >= 1, "Database:MaxPoolSize is below 1; give the most connections this service may hold to its database, at least 1 (default 12).");
        // Read now: the connection string is built with it.
        var database = builder.GetStartupSettings<DatabaseOptions>("Database");
        builder.AddNpgsqlDbContext<TContext>(connectionName, settings =>
        {
            if (settings.ConnectionString is { Length: > 0 } cs)
            {
                settings.ConnectionString = new NpgsqlConnectionStringBuilder(cs)
                {
                    // Names the service's sessions in pg_stat_activity (an operator's first question about a busy server).
                    ApplicationName = builder.Environment.ApplicationName,
                    Timeout = 5,
                    CommandTimeout = 20,
                    MaxPoolSize = database.MaxPoolSize,
                    // The services run the same few statements all day: prepared once per
                    // connection, PostgreSQL stops parsing and planning them on every call.
                    MaxAutoPrepare = 64,
                    AutoPrepareMinUsages = 2,
                    // Npgsql would otherwise reset each pooled connection's session on its next use (a
                    // multi-command RESET ALL/UNLISTEN/unlock run before every statement that opens it). The
                    // services leave no session state behind: no SET outside a transaction, advisory locks only
                    // per transaction, LISTEN only on the Orders listener's own unpooled session.
                    NoResetOnClose = true,
                    Options = sessionSettings is null ? null : string.Join(' ', sessionSettings.Select(kv => $"-c {kv.Key}={kv.Value}")),
                }.ConnectionString;
            }
            // EF's retries would re-run non-idempotent work; the services own their transactions instead. Only a read or a
            // rerunnable statement that met a broken connection is run again (BrokenConnectionRetry, set below), and a
            // transaction's block through InAllOrNothingTransactionAsync.
            settings.DisableRetry = true;
        });
        builder.Services.TryAddSingleton(OwnDatabase.ForConnection(connectionName));
        // FailureCauseLog is more than a log: it also marks the commands that failed on a broken connection, which is what
        // BrokenConnectionRetry and InAllOrNothingTransactionAsync retry. Resolving it for the logger factory is what subscribes it.
        builder.Services.TryAddSingleton(services => new FailureCauseLog(new LevelAdjustingLoggerFactory(services.GetRequiredService<ILoggerFactory>(), DatabaseLogLevels.LevelOf)));
        builder.Services.ConfigureDbContext<TContext>((services, options) => options
            .UseNpgsql(npgsql => npgsql
                .ConfigureDataSource(dataSource => dataSource.TraceCommandsOnlyInsideActivities())
                .ExecutionStrategy(dependencies => new BrokenConnectionRetry(dependencies)))
            .UseSnakeCaseNamingConvention()
            .UseLoggerFactory(services.GetRequiredService<FailureCauseLog>().LoggerFactory));
        return builder;
    }

    /// <summary>The argument that makes the service apply its migrations and exit (a deployment's migration step).</summary>
    public const string MigrateArgument = "--migrate";

    /// <summary>
    /// Migrations run as the database's owner role, with <c>ConnectionStrings:&lt;name&gt;-migrations</c>; the
    /// service serves with <c>ConnectionStrings:&lt;name&gt;</c>, a role that can only read and write rows.
    /// The AppHost sets both names (ServiceDatabase.cs there).
    /// </summary>
    public static string MigrationConnectionName(string connectionName) => connectionName + "-migrations";

    /// <summary>
    /// The database refused, dropped or timed out a call, or no pooled connection was free in time: a transient
    /// <see cref="NpgsqlException"/> anywhere in the chain (EF Core wraps it), other than <see cref="IsContention"/>, which
    /// Npgsql counts as transient too but is a database that answered.
    /// </summary>
    public static bool IsUnavailability(Exception exception) =>
        Find<NpgsqlException>(exception, e => e.IsTransient) is not null && !IsContention(exception);

    /// <summary>
    /// The database aborted the request's transaction because of another one on the same rows: a deadlock (40P01), a
    /// serialization failure (40001) or a lock not available (55P03). Nothing the transaction did is saved, and the same
    /// request made again can succeed; the database is not away.
    /// </summary>
    public static bool IsContention(Exception exception) =>
        Find<PostgresException>(exception, e => e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.LockNotAvailable) is not null;

    private static T? Find<T>(Exception? exception, Func<T, bool> match) where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found && match(found))
            {
                return found;
            }
        }
        return null;
    }

    /// <summary>
    /// With <see cref="MigrateArgument"/>, applies the migrations and answers true: the caller exits
    /// (exit code 1 when they failed). A deployment runs the service image this way before the service,
    /// so the running service never holds the owner's password.
    /// </summary>
    public static async Task<bool> RunMigrationStepAsync<TContext>(this WebApplicationBuilder builder, string[] args, string connectionName)
        where TContext : DbContext
    {
        if (!args.Contains(MigrateArgument))
        {
            return false;
        }
        using var loggerFactory = LoggerFactory.Create(l => l.AddConfiguration(builder.Configuration.GetSection("Logging")).AddConsole());
        var logger = loggerFactory.CreateLogger("Shop.Migrations");
        try
        {
            var owner = builder.Configuration.GetConnectionString(MigrationConnectionName(connectionName))
                ?? throw new InvalidOperationException($"{MigrateArgument} needs ConnectionStrings:{MigrationConnectionName(connectionName)}, the database owner's connection string.");
            await MigrateAsync<TContext>(owner, loggerFactory, logger);
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "Migrating {Context} failed", typeof(TContext).Name);
            Environment.ExitCode = 1;
        }
        return true;
    }

    /// <summary>
    /// Before the service takes traffic: where it was given the owner's connection string (run mode),
    /// applies pending migrations with it; otherwise (a deployment, whose migration step ran before)
    /// refuses to start while migrations are pending, naming them.
    /// </summary>
    public static async Task MigrateDatabaseAsync<TContext>(this WebApplication app, string connectionName) where TContext : DbContext
    {
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var logger = loggerFactory.CreateLogger("Shop.Migrations");
        if (app.Configuration.GetConnectionString(MigrationConnectionName(connectionName)) is { Length: > 0 } owner)
        {
            await MigrateAsync<TContext>(owner, loggerFactory, logger);
            return;
        }
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
        if (pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"{typeof(TContext).Name} has migrations not applied yet ({string.Join(", ", pending)}). Run this image with {MigrateArgument} " +
                $"and ConnectionStrings:{MigrationConnectionName(connectionName)} (the deployment's migration step) before the service.");
        }
        logger.LogInformation("{Context} schema is up to date", typeof(TContext).Name);
    }

    /// <summary>
    /// The migration history is the owner's record of the schema: the service's role (granted the rows of
    /// every table by default privileges) may read it, to check nothing is pending, but not change it.
    /// </summary>
    private const string HistoryReadOnlyScript = """
        DO $history$
        DECLARE grantee_name text;
        BEGIN
            FOR grantee_name IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
                WHERE table_schema = 'public' AND table_name = '__EFMigrationsHistory' AND grantee <> current_user
                  AND privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE') LOOP
                EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public."__EFMigrationsHistory" FROM %I', grantee_name);
            END LOOP;
        END
        $history$;
        """;

    /// <summary>
    /// Applies pending EF Core migrations as the owner role. Replicas start together, so the migration
    /// runs under a PostgreSQL advisory lock: the first replica migrates, the others wait and then find
    /// nothing to do. EF Core's own migration lock does not stop two replicas applying the same migration
    /// (the second then fails on the history row).
    /// </summary>
    private static async Task MigrateAsync<TContext>(string ownerConnectionString, ILoggerFactory loggerFactory, ILogger logger) where TContext : DbContext
    {
        // Unpooled: the service does not keep the owner's connections open once it has migrated.
        var connectionString = new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        var options = new DbContextOptionsBuilder<TContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention().UseLoggerFactory(loggerFactory).Options;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var migrationLock = await MigrationLock.AcquireAsync(connectionString, typeof(TContext).Name);
                await using var db = NpgsqlDesignTimeFactory<TContext>.Create(options);
                // On an empty database EF reads the history table before creating it and logs the failed
                // read at Error: a red entry on every first start. Creating it first (idempotent) avoids that.
                await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript());
                await db.Database.MigrateAsync();
                await db.Database.ExecuteSqlRawAsync(HistoryReadOnlyScript);
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
    /// Begins a transaction that its caller abandons on any failure. Inside a transaction EF Core wraps each
    /// SaveChanges in a savepoint (SAVEPOINT before, RELEASE after: two more round trips while the transaction
    /// holds its row locks) only so that the transaction stays usable after a failed save, which these callers
    /// never want: they roll back instead.
    /// </summary>
    public static Task<IDbContextTransaction> BeginAllOrNothingTransactionAsync(this DatabaseFacade database, CancellationToken ct)
    {
        database.AutoSavepointsEnabled = false;
        return database.BeginTransactionAsync(ct);
    }

    /// <summary>
    /// Runs <paramref name="block"/> in an all-or-nothing transaction (<see cref="BeginAllOrNothingTransactionAsync"/>) and
    /// commits it. A block that met a broken connection (<see cref="BrokenConnections"/>: 57P01 after a restart, a socket
    /// reset) is run once more, on a fresh connection: COMMIT was not sent, so the server rolls the transaction back (at
    /// once, or when it sees the connection gone) and nothing the block did is in the database. The context forgets what it tracked (the failed try's entities were never
    /// saved), so the block builds its changes itself. The commit is never run again: a connection that breaks during it
    /// leaves unknown whether it committed. Only for a block whose every effect outside the database (an HTTP call, a Redis
    /// write, a log line) is harmless to repeat: what must happen once is done by the caller after this returns.
    /// </summary>
    public static async Task<T> InAllOrNothingTransactionAsync<T>(this DbContext db, Func<CancellationToken, Task<T>> block, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            Exception? broken = null;
            await using (var transaction = await db.Database.BeginAllOrNothingTransactionAsync(ct))
            {
                var result = default(T);
                try
                {
                    result = await block(ct);
                }
                // Run again once: the second try's failure, whatever it is, is the caller's.
                catch (Exception e) when (attempt == 1 && BrokenConnections.Met(e, BrokenConnections.Kind.InTransaction))
                {
                    broken = e;
                }
                if (broken is null)
                {
                    // Outside the catch: a commit that fails is never run again.
                    await transaction.CommitAsync(ct);
                    return result!;
                }
            }
            // The broken transaction is disposed of and its connection closed before the next one begins on a fresh connection.
            await db.Database.CloseConnectionAsync();
            db.ChangeTracker.Clear();
            BrokenConnections.Retrying(db.Database, broken, async: true);
        }
    }

    /// <inheritdoc cref="InAllOrNothingTransactionAsync{T}"/>
    public static Task InAllOrNothingTransactionAsync(this DbContext db, Func<CancellationToken, Task> block, CancellationToken ct) =>
        db.InAllOrNothingTransactionAsync(async c =>
        {
            await block(c);
            return true;
        }, ct);

    /// <summary>
    /// Runs <paramref name="statement"/>, one statement outside a transaction, so that when it meets a broken connection it
    /// is run once more on a fresh one, as a read is (<see cref="BrokenConnectionRetry"/>). The server may have run the first
    /// before the connection broke, so only for a statement whose second run changes nothing the first did not: an insert
    /// that does nothing on conflict, a function keyed by the request's id that answers a repeat with the first result.
    /// </summary>
    public static async Task<T> RerunnableAsync<T>(this DatabaseFacade database, Func<Task<T>> statement)
    {
        // Set inside this async method, the mark flows to EF's failure event beneath it and never back to the caller.
        // Retried here, not by the execution strategy: EF runs raw SQL (ExecuteSql) without one.
        BrokenConnections.RerunnableStatement.Value = true;
        try
        {
            return await statement();
        }
        catch (Exception e) when (BrokenConnections.Met(e, BrokenConnections.Kind.Statement))
        {
            BrokenConnections.Retrying(database, e, async: true);
            return await statement();
        }
    }

    /// <summary>
    /// Saves, answering false when a unique constraint refuses the change — for the callers that turn
    /// that into a 409. EF Core logs the failed command and save at Error before the caller sees the
    /// exception; here they are logged at Debug, as the expected outcome they are. Any other failure
    /// still throws and is logged at Error.
    /// </summary>
    public static Task<bool> TrySaveUniqueAsync(this DbContext db, CancellationToken ct) =>
        db.TrySaveAsync(e => e.SqlState == PostgresErrorCodes.UniqueViolation, ct);

    /// <summary>
    /// Saves, answering false when the named constraint (a check, or a trigger raising with that
    /// <c>CONSTRAINT</c>) refuses the change, logged at Debug like <see cref="TrySaveUniqueAsync"/>.
    /// </summary>
    public static Task<bool> TrySaveAsync(this DbContext db, string constraint, CancellationToken ct) =>
        db.TrySaveAsync(e => e.ConstraintName == constraint, ct);

    private static Task<bool> TrySaveAsync(this DbContext db, Func<PostgresException, bool> expected, CancellationToken ct) =>
        TryAsync(expected, () => db.SaveChangesAsync(ct));

    /// <summary>
    /// Runs <paramref name="statement"/> (EF Core raw SQL), answering false when the named constraint — or a
    /// function raising with that <c>CONSTRAINT</c> — refuses it, logged at Debug like <see cref="TrySaveUniqueAsync"/>.
    /// </summary>
    public static Task<bool> TryStatementAsync(this DatabaseFacade database, string constraint, Func<Task> statement) =>
        TryAsync(e => e.ConstraintName == constraint, statement);

    private static async Task<bool> TryAsync(Func<PostgresException, bool> expected, Func<Task> work)
    {
        // Set inside this async method, the rule flows to EF's logging beneath it and never back to the caller.
        ExpectedConflicts.Expected.Value = expected;
        try
        {
            await work();
            return true;
        }
        catch (Exception e) when (e is DbUpdateException or PostgresException && ExpectedConflicts.IsExpected(e, expected))
        {
            return false;
        }
    }

    /// <summary>The refusal a <see cref="TryAsync"/> expects, for <see cref="DatabaseLogLevels"/> to lower EF Core's entries of it to Debug.</summary>
    private static class ExpectedConflicts
    {
        public static readonly AsyncLocal<Func<PostgresException, bool>?> Expected = new();

        public static bool IsExpected(Exception? e, Func<PostgresException, bool> expected) => Find(e, expected) is not null;

        /// <summary>Whether <paramref name="exception"/> is the refusal the current <see cref="TryAsync"/> expects.</summary>
        public static bool IsExpected(Exception exception) => Expected.Value is { } expected && IsExpected(exception, expected);
    }

    /// <summary>
    /// The levels of EF Core's entries: an Error caused by the database's unavailability (<see cref="IsUnavailability"/>:
    /// a refused or broken connection, 57P01 after a restart, a timeout) or by a refusal <see cref="TryAsync"/> expects is
    /// Debug. An outage is said once by <see cref="OutageLog"/> when its 503 is answered; EF said it again for every
    /// request, in three categories (Connection, Command, Query). Any other Error, a real fault, keeps its level.
    /// </summary>
    private static class DatabaseLogLevels
    {
        public static LogLevel LevelOf(LogLevel logLevel, EventId eventId, Exception? exception) =>
            logLevel < LogLevel.Error ? logLevel
            // EF logs a failed statement or connection without its exception, so its cause is unknown here:
            // FailureCauseLog logs it again with the exception, and that entry is the one kept or lowered.
            : exception is null && (eventId.Id == RelationalEventId.CommandError.Id || eventId.Id == RelationalEventId.ConnectionError.Id) ? LogLevel.Debug
            : exception is not null && (IsUnavailability(exception) || ExpectedConflicts.IsExpected(exception)) ? LogLevel.Debug
            : logLevel;
    }

    /// <summary>
    /// EF Core's failed statement (<c>CommandError</c>) and failed connection (<c>ConnectionError</c>) with their cause,
    /// which EF's own entries lack: EF logs them before anything else sees the failure, so their level cannot follow the
    /// cause (<see cref="DatabaseLogLevels"/>). Here the same message is logged again with the exception, through the same
    /// levels, so wrong SQL stays an Error, now with the reason the database gave.
    /// It listens on EF's diagnostic source for those two events only. An interceptor would see them too, but with any
    /// interceptor registered EF builds its event data for every statement it runs, not only for failed ones: 7.9 KB
    /// more allocated per statement (docs/performance.md, Round 37). A listener that enables two event names has EF build
    /// it for those two.
    /// </summary>
    private sealed class FailureCauseLog : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly ILogger _commands;
        private readonly ILogger _connections;
        private readonly List<IDisposable> _subscriptions = [];
        private readonly IDisposable _listeners;

        public FailureCauseLog(ILoggerFactory loggerFactory)
        {
            LoggerFactory = loggerFactory;
            _commands = loggerFactory.CreateLogger(DbLoggerCategory.Database.Command.Name);
            _connections = loggerFactory.CreateLogger(DbLoggerCategory.Database.Connection.Name);
            // Calls OnNext for the listeners that exist now, and for each one created later.
            _listeners = DiagnosticListener.AllListeners.Subscribe(this);
        }

        /// <summary>The factory the service's DbContext logs through: EF's entries at the same levels as these.</summary>
        public ILoggerFactory LoggerFactory { get; }

        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == DbLoggerCategory.Name)
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(listener.Subscribe(this, IsFailure));
                }
            }
        }

        private static bool IsFailure(string name) => name == RelationalEventId.CommandError.Name || name == RelationalEventId.ConnectionError.Name;

        public void OnNext(KeyValuePair<string, object?> failure)
        {
            switch (failure.Value)
            {
                case CommandErrorEventData command:
                    // Before EF rethrows the failure to the execution strategy, which runs a marked read again.
                    BrokenConnections.Mark(command);
                    if (IsOurs(command.Context))
                    {
                        Log(_commands, command, command.Exception);
                    }
                    break;
                case ConnectionErrorEventData connection when IsOurs(connection.Context):
                    Log(_connections, connection, connection.Exception);
                    break;
            }
        }

        // The source is the process's: a process with several hosts (a test's) has each log only its own contexts' failures.
        private bool IsOurs(DbContext? context) =>
            context is null || context.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.LoggerFactory == LoggerFactory;

        private static void Log(ILogger logger, EventData eventData, Exception exception) =>
            logger.Log(eventData.LogLevel, eventData.EventId, exception, "{Failure}", eventData.ToString());

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            _listeners.Dispose();
            lock (_subscriptions)
            {
                _subscriptions.ForEach(s => s.Dispose());
                _subscriptions.Clear();
            }
        }
    }

    /// <summary>
    /// EF Core's way of running each query and save: once, except a read that met a broken connection outside a transaction
    /// (<see cref="BrokenConnections"/>), which is run again once on a fresh one. A restarted database leaves every connection idle in the pool dead, and Npgsql hands one out without
    /// checking it: the first request needing the database after the restart failed (a 503 although the database was
    /// back). EF's retrying strategy (<c>EnableRetryOnFailure</c>) is not used: it would run again a save that may have
    /// committed before its connection broke, and it refuses the services' own transactions (a transaction's block is run
    /// again whole by <see cref="InAllOrNothingTransactionAsync{T}"/>, never one statement of it).
    /// </summary>
    private sealed class BrokenConnectionRetry(ExecutionStrategyDependencies dependencies) : IExecutionStrategy
    {
        /// <summary>
        /// False: EF would otherwise buffer every query's rows before the first is read, and refuse user transactions. A
        /// read is run again only when it failed before its first row (the command itself failed), so nothing is read twice.
        /// </summary>
        public bool RetriesOnFailure => false;

        public TResult Execute<TState, TResult>(TState state, Func<DbContext, TState, TResult> operation, Func<DbContext, TState, ExecutionResult<TResult>>? verifySucceeded)
        {
            var context = dependencies.CurrentContext.Context;
            try
            {
                return operation(context, state);
            }
            catch (Exception e) when (BrokenConnections.Met(e, BrokenConnections.Kind.Read))
            {
                BrokenConnections.Retrying(context.Database, e, async: false);
                return operation(context, state);
            }
        }

        public async Task<TResult> ExecuteAsync<TState, TResult>(TState state, Func<DbContext, TState, CancellationToken, Task<TResult>> operation,
            Func<DbContext, TState, CancellationToken, Task<ExecutionResult<TResult>>>? verifySucceeded, CancellationToken cancellationToken = default)
        {
            var context = dependencies.CurrentContext.Context;
            try
            {
                return await operation(context, state, cancellationToken);
            }
            catch (Exception e) when (BrokenConnections.Met(e, BrokenConnections.Kind.Read))
            {
                BrokenConnections.Retrying(context.Database, e, async: true);
                return await operation(context, state, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The commands that failed because their connection was broken: the server ended the session (57P01 after a restart,
    /// 57P02, class 08) or the socket broke. Marked when EF reports the failed command (<see cref="FailureCauseLog"/>: not an
    /// interceptor, which would have EF describe every statement) as one of three kinds, each run again by its own caller:
    /// outside a transaction, a LINQ query (a SELECT, which changes nothing, so running it again is harmless whether or not
    /// the server ran it), for <see cref="BrokenConnectionRetry"/>, or a <see cref="RerunnableAsync{T}"/> statement, for that
    /// method; inside one, any command, for <see cref="InAllOrNothingTransactionAsync{T}"/>, which runs the whole block again
    /// (one statement again on another connection would run outside the transaction). A COMMIT is no command here: its
    /// failure is never marked.
    /// </summary>
    private static class BrokenConnections
    {
        private static readonly ConditionalWeakTable<Exception, Kind> Marked = new();

        /// <summary>Set by <see cref="RerunnableAsync{T}"/> for the statement it runs.</summary>
        public static readonly AsyncLocal<bool> RerunnableStatement = new();

        /// <summary>A class, not an enum, only because <see cref="ConditionalWeakTable{TKey, TValue}"/> holds reference values.</summary>
        public sealed class Kind
        {
            public static readonly Kind Read = new(), Statement = new(), InTransaction = new();

            private Kind()
            {
            }
        }

        public static bool Met(Exception exception, Kind kind) =>
            Find<Exception>(exception, e => Marked.TryGetValue(e, out var marked) && marked == kind) is not null;

        public static void Mark(CommandErrorEventData eventData)
        {
            if (!IsBrokenConnection(eventData.Exception))
            {
                return;
            }
            // Npgsql 10.0.3 hands a disposed command back to its connection's next CreateCommand. A command whose write failed
            // while its statement was being auto-prepared (its second use) keeps that mark (NpgsqlBatchCommand.IsPreparing,
            // left set by NpgsqlCommand.ExecuteReader's catch, not cleared by Reset), and the connection's next command, on a
            // fresh connector, threw a NullReferenceException in NpgsqlDataReader.NextResult: a 500 for the next request on
            // the pooled context. Detached before EF disposes of it, the command is not kept.
            eventData.Command.Connection = null;
            if (KindOf(eventData) is { } kind)
            {
                Marked.AddOrUpdate(eventData.Exception, kind);
            }
        }

        private static Kind? KindOf(CommandErrorEventData eventData) =>
            eventData.Context?.Database.CurrentTransaction is not null ? Kind.InTransaction
            : RerunnableStatement.Value ? Kind.Statement
            : eventData.CommandSource == CommandSource.LinqQuery ? Kind.Read
            : null;

        /// <summary>Before a retry: the pool emptied (a restart ends every pooled connection at once: the others idle as long are as dead), and EF's retry line.</summary>
        public static void Retrying(DatabaseFacade database, Exception e, bool async)
        {
            if (database.GetDbConnection() is NpgsqlConnection connection)
            {
                NpgsqlConnection.ClearPool(connection);
            }
            database.GetService<IDiagnosticsLogger<DbLoggerCategory.Infrastructure>>().ExecutionStrategyRetrying([e], TimeSpan.Zero, async);
        }

        private static bool IsBrokenConnection(Exception exception) => exception switch
        {
            PostgresException e => e.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown || e.SqlState.StartsWith("08", StringComparison.Ordinal),
            NpgsqlException e => e.InnerException is IOException or System.Net.Sockets.SocketException,
            _ => false,
        };
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
        var options = new DbContextOptionsBuilder<TContext>().UseNpgsql("Host=localhost;Database=design_time").UseSnakeCaseNamingConvention().Options;
        return Create(options);
    }

    /// <summary>A context outside dependency injection (its constructor takes only the options).</summary>
    internal static TContext Create(DbContextOptions<TContext> options) => (TContext)Activator.CreateInstance(typeof(TContext), options)!;
}
