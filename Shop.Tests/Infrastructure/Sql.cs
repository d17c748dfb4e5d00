using Npgsql;

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
