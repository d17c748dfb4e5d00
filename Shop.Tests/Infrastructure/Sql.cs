using Npgsql;
using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>One statement on an open connection, for tests that set up or read the databases directly.</summary>
internal static class Sql
{
    public static async Task ExecuteAsync(NpgsqlConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(db, sql, parameters);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<long> ScalarAsync(NpgsqlConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(db, sql, parameters);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>
    /// Until a session of <paramref name="watcher"/>'s database waits for a lock that <paramref name="holder"/> holds
    /// (any lock of kind <paramref name="waitEvent"/> when no holder is named: pg_stat_activity's name for it, e.g.
    /// 'relation', 'transactionid', 'advisory'), or until <paramref name="done"/>: how a race test knows the statement
    /// it started has reached the lock it holds. Naming the holder matters where other tests run at the same time:
    /// their sessions wait on locks in the same database too. 30 s at most.
    /// </summary>
    public static async Task UntilALockIsAwaitedAsync(NpgsqlConnection watcher, string what, NpgsqlConnection? holder = null, string? waitEvent = null, Func<bool>? done = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(done?.Invoke() ?? false) && await ScalarAsync(watcher, """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
              AND (@holder = 0 OR @holder = ANY (pg_blocking_pids(pid))) AND (@event = '' OR wait_event = @event)
            """, ("holder", holder?.ProcessID ?? 0), ("event", waitEvent ?? "")) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} did not wait for a lock within 30 s");
            await Task.Delay(20);
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection db, string sql, (string Name, object Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
