using Aspire.Hosting.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using Shop.Tests.Infrastructure;
using Shop.Users.Data;
using Shop.Users.Data.Migrations;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Users' migrations run on a database that holds rows, not only on the empty one every test app starts with: a
/// scratch database on the Users PostgreSQL server, migrated to just before the migration under test, given rows with
/// plain SQL as the service of that time wrote them, then migrated to the end.
/// </summary>
public sealed class UsersMigrationTests(ShopApp shop)
{
    /// <summary>
    /// <see cref="SessionsEndAfterAMaximumLifetime"/> back-fills <c>session_started_at</c> of the sessions under way:
    /// each token gets the earliest <c>created_at</c> of its family (its session), whichever token of it it is, and
    /// never another family's.
    /// </summary>
    [Fact]
    public async Task The_session_start_back_fill_gives_each_token_its_familys_earliest_creation()
    {
        await using var scratch = await ScratchDatabaseAsync();
        await using var db = new UsersDbContext(new DbContextOptionsBuilder<UsersDbContext>()
            .UseNpgsql(scratch.ConnectionString).UseSnakeCaseNamingConvention().Options);
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var target = migrations.Single(m => m.EndsWith("_" + nameof(SessionsEndAfterAMaximumLifetime), StringComparison.Ordinal));
        await migrator.MigrateAsync(migrations[migrations.IndexOf(target) - 1]);

        var start = new DateTime(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc);
        // Per family, the creation times of its tokens in the order they are inserted (the earliest is not always the
        // first written): two families of one user and one of another user.
        var families = new (Guid Family, int User, int[] HoursAfterStart)[]
        {
            (Guid.NewGuid(), 1, [30, 2, 55]),
            (Guid.NewGuid(), 1, [7]),
            (Guid.NewGuid(), 2, [100, 90, 95, 91]),
        };
        await using (var connection = new NpgsqlConnection(scratch.ConnectionString))
        {
            await connection.OpenAsync();
            await Sql.ExecuteAsync(connection, """
                INSERT INTO users (name, email, normalized_email, password_hash, role, is_active, created_at)
                VALUES ('One', 'one@example.com', 'one@example.com', 'x', 'user', true, now()),
                       ('Two', 'two@example.com', 'two@example.com', 'x', 'user', true, now())
                """);
            // Round robin over the families, so that their rows interleave.
            var rows = families.SelectMany(f => f.HoursAfterStart.Select((hours, i) => (f.Family, f.User, Hours: hours, Turn: i)))
                .OrderBy(r => r.Turn).ToList();
            foreach (var (family, user, hours, _) in rows)
            {
                await Sql.ExecuteAsync(connection, """
                    INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at)
                    VALUES (gen_random_uuid(), @family, @user, sha256(gen_random_uuid()::text::bytea), @created, @created + interval '14 days')
                    """, ("family", family), ("user", user), ("created", start.AddHours(hours)));
            }
        }

        await migrator.MigrateAsync();

        await using (var connection = new NpgsqlConnection(scratch.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT family_id, created_at, session_started_at FROM refresh_tokens", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var seen = 0;
            while (await reader.ReadAsync())
            {
                var family = families.Single(f => f.Family == reader.GetGuid(0));
                var expected = start.AddHours(family.HoursAfterStart.Min());
                Assert.True(expected == reader.GetDateTime(2),
                    $"the token created {reader.GetDateTime(1):u} of the family that started {expected:u} got {reader.GetDateTime(2):u}");
                seen++;
            }
            Assert.Equal(families.Sum(f => f.HoursAfterStart.Length), seen);
        }
    }

    /// <summary>An empty database of its own on the Users server, dropped at the end; migrated as the superuser.</summary>
    private async Task<Scratch> ScratchDatabaseAsync()
    {
        var server = await shop.App.GetConnectionStringAsync("users-db") ?? throw new InvalidOperationException("no users-db connection string");
        var name = "migration_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync();
            await Sql.ExecuteAsync(connection, $"CREATE DATABASE {name}");
        }
        return new Scratch(server, name);
    }

    private sealed record Scratch(string Server, string Name) : IAsyncDisposable
    {
        public string ConnectionString => new NpgsqlConnectionStringBuilder(Server) { Database = Name, Pooling = false }.ConnectionString;

        public async ValueTask DisposeAsync()
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Server) { Database = "postgres", Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        }
    }
}
