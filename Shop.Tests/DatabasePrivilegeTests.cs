using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Npgsql;
using Shop.AppHost.Infrastructure;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Each service reaches its database as a role that can read and write its own
/// tables and nothing more. The connection string is the one the AppHost handed to the running
/// service process (read from its environment), so a SQL injection in that service gets exactly
/// these rights. Statements that would succeed run inside a transaction that is rolled back.
/// </summary>
public sealed class DatabasePrivilegeTests(ShopApp shop)
{
    public static TheoryData<string, string, string> Services => new()
    {
        { "users", "usersdb", "users" },
        { "orders", "ordersdb", "orders" },
        { "inventory", "inventorydb", "inventory" },
    };

    private static readonly Dictionary<string, string> Servers = new()
    {
        ["usersdb"] = "users-db",
        ["ordersdb"] = "orders-db",
        ["inventorydb"] = "inventory-db",
    };

    [Theory]
    [MemberData(nameof(Services))]
    public async Task The_service_role_cannot_change_the_schema_run_programs_or_grant_itself_more(string service, string database, string table)
    {
        await using var db = await OpenAsServiceAsync(service, database);

        // Its own data it can use.
        await ScalarAsync(db, $"SELECT count(*) FROM {table}");

        await AssertRefusedAsync(db, "CREATE TABLE shop_privilege_probe (id int)");
        await AssertRefusedAsync(db, $"DROP TABLE {table}");
        await AssertRefusedAsync(db, $"TRUNCATE {table}");
        await AssertRefusedAsync(db, "COPY (SELECT 1) TO PROGRAM 'true'");
        await AssertRefusedAsync(db, "SELECT pg_read_file('/etc/passwd')");
        await AssertRefusedAsync(db, "CREATE ROLE shop_privilege_probe LOGIN SUPERUSER");
        await AssertRefusedAsync(db, "ALTER ROLE CURRENT_USER SUPERUSER");
        await AssertRefusedAsync(db, "ALTER ROLE CURRENT_USER CREATEROLE");

        Assert.Equal("f f f f f f f", await ScalarAsync(db, """
            SELECT concat_ws(' ', r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
                pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER'),
                pg_has_role(current_user, 'pg_read_server_files', 'MEMBER'),
                pg_has_role(current_user, 'pg_write_server_files', 'MEMBER'))
            FROM pg_roles r WHERE r.rolname = current_user
            """));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task The_service_holds_no_superuser_password(string service, string database, string table)
    {
        _ = table;
        var superuserPassword = shop.ParameterValue($"{Servers[database]}-password");
        var environment = await shop.ProcessEnvironmentAsync(service);
        Assert.DoesNotContain(environment, kv => kv.Value.Contains(superuserPassword, StringComparison.Ordinal));
        Assert.Equal($"{database}_app", new NpgsqlConnectionStringBuilder(environment[$"ConnectionStrings__{database}"]).Username);
    }

    /// <summary>
    /// Every table, sequence and function of the service's database — those of its migrations, EF's
    /// history table and Orders' Data Protection key ring — belongs to the owner role, and the service's
    /// role has exactly the rights on them it needs.
    /// </summary>
    [Theory]
    [MemberData(nameof(Services))]
    public async Task Every_object_belongs_to_the_owner_and_the_service_role_may_only_use_rows(string service, string database, string table)
    {
        _ = (service, table);
        await using var db = await shop.OpenDatabaseAsync(database);
        var tables = await AssertRolesAsync(db, $"{database}_owner", $"{database}_app");
        Assert.Contains("__EFMigrationsHistory", tables);
        if (database == "ordersdb")
        {
            Assert.Contains("data_protection_keys", tables);
        }
        if (database == "inventorydb")
        {
            Assert.Equal("True", await ScalarAsync(db, "SELECT has_function_privilege('inventorydb_app', 'reserve_stock(uuid, text[], int[])', 'EXECUTE')"));
        }
    }

    /// <summary>A table a later migration adds is the service's to use without a grant in that migration (default privileges).</summary>
    [Theory]
    [MemberData(nameof(Services))]
    public async Task A_table_the_owner_creates_later_is_usable_by_the_service_role_and_still_not_droppable(string service, string database, string table)
    {
        _ = table;
        var environment = await shop.ProcessEnvironmentAsync(service);
        var probe = "privilege_probe_" + Guid.NewGuid().ToString("N")[..12];
        await using var owner = await OpenAsync(environment[$"ConnectionStrings__{database}-migrations"]);
        Assert.Equal($"{database}_owner", await ScalarAsync(owner, "SELECT current_user"));
        await Sql.ExecuteAsync(owner, $"CREATE TABLE {probe} (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)");
        try
        {
            await using var app = await OpenAsServiceAsync(service, database);
            await Sql.ExecuteAsync(app, $"INSERT INTO {probe} (note) VALUES ('written by the service role')");
            await Sql.ExecuteAsync(app, $"UPDATE {probe} SET note = 'updated'");
            Assert.Equal("1", await ScalarAsync(app, $"SELECT count(*) FROM {probe}"));
            await Sql.ExecuteAsync(app, $"DELETE FROM {probe}");
            await AssertRefusedAsync(app, $"DROP TABLE {probe}");
            await AssertRefusedAsync(app, $"ALTER TABLE {probe} ADD COLUMN extra int");
        }
        finally
        {
            await Sql.ExecuteAsync(owner, $"DROP TABLE {probe}");
        }
    }

    /// <summary>
    /// A developer's data directory from before the roles: tables, a sequence and a function the
    /// superuser owns. Setting the roles up (what the AppHost does on every start) hands them to the owner.
    /// </summary>
    [Fact]
    public async Task Setting_up_the_roles_takes_over_what_the_superuser_created_and_can_run_again()
    {
        await using var scratch = await ScratchDatabase.CreateAsync(shop);
        await using (var legacy = await OpenAsync(scratch.SuperuserConnectionString))
        {
            await Sql.ExecuteAsync(legacy, """
                CREATE TABLE things (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text);
                CREATE TABLE notes (id serial PRIMARY KEY, thing_id int REFERENCES things (id));
                CREATE SEQUENCE ticket_numbers;
                CREATE VIEW thing_names AS SELECT name FROM things;
                CREATE FUNCTION thing_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM things';
                CREATE TABLE "__EFMigrationsHistory" ("MigrationId" varchar(150) PRIMARY KEY, "ProductVersion" varchar(32) NOT NULL);
                GRANT ALL ON things TO PUBLIC;
                """);
        }
        var roles = scratch.Roles;
        await roles.ApplyAsync(scratch.SuperuserConnectionString, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        await roles.ApplyAsync(scratch.SuperuserConnectionString, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);

        await using var superuser = await OpenAsync(scratch.SuperuserConnectionString);
        var tables = await AssertRolesAsync(superuser, roles.Owner, roles.App);
        Assert.Equal(["__EFMigrationsHistory", "notes", "thing_names", "things"], tables.Order(StringComparer.Ordinal));
        Assert.Equal(roles.Owner, await ScalarAsync(superuser, "SELECT sequenceowner FROM pg_sequences WHERE sequencename = 'ticket_numbers'"));
        Assert.Equal(roles.Owner, await ScalarAsync(superuser, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"));

        await using var app = await OpenAsync(scratch.ConnectionString(roles.App, scratch.AppPassword));
        await Sql.ExecuteAsync(app, "INSERT INTO things (name) VALUES ('a'); INSERT INTO notes (thing_id) SELECT id FROM things");
        Assert.Equal("1", await ScalarAsync(app, "SELECT thing_count()"));
        Assert.Equal("1", await ScalarAsync(app, "SELECT nextval('ticket_numbers')"));
        await AssertRefusedAsync(app, "DROP TABLE things");
        await AssertRefusedAsync(app, "TRUNCATE things");
        await AssertRefusedAsync(app, "CREATE TABLE more_things (id int)");
    }

    /// <summary>
    /// A hand-set role password holding quotes, separators and spaces at either end is set whole, by the roles step
    /// (run mode: <c>ALTER ROLE … PASSWORD</c> from a query parameter) and by the deployment's init script (psql
    /// variables): each role then signs in with exactly that password.
    /// </summary>
    [Theory]
    [InlineData(" it's; \"x\"=y ")]
    [InlineData("'")]
    public async Task A_role_password_with_quotes_and_separators_is_set_whole(string password)
    {
        await using (var scratch = await ScratchDatabase.CreateAsync(shop, password: password))
        {
            await scratch.Roles.ApplyAsync(scratch.SuperuserConnectionString, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
            await AssertSignsInAsync(scratch);
        }
        await using (var scratch = await ScratchDatabase.CreateAsync(shop, create: false, password: password))
        {
            var result = await scratch.RunInitScriptAsync();
            Assert.True(result.ExitCode == 0, result.ToString());
            await AssertSignsInAsync(scratch);
        }

        static async Task AssertSignsInAsync(ScratchDatabase scratch)
        {
            await using var owner = await OpenAsync(scratch.ConnectionString(scratch.Roles.Owner, scratch.OwnerPassword));
            Assert.Equal(scratch.Roles.Owner, await ScalarAsync(owner, "SELECT current_user"));
            await using var app = await OpenAsync(scratch.ConnectionString(scratch.Roles.App, scratch.AppPassword));
            Assert.Equal(scratch.Roles.App, await ScalarAsync(app, "SELECT current_user"));
        }
    }

    /// <summary>
    /// The script a deployment's postgres container runs from /docker-entrypoint-initdb.d (compose and
    /// Kubernetes), run here as the image runs it: psql as the superuser, the passwords in the environment.
    /// </summary>
    [Fact]
    public async Task The_deployment_init_script_creates_the_database_and_both_roles()
    {
        await using var scratch = await ScratchDatabase.CreateAsync(shop, create: false);
        var server = new NpgsqlConnectionStringBuilder(scratch.SuperuserConnectionString);
        for (var run = 1; run <= 2; run++)
        {
            var result = await scratch.RunInitScriptAsync();
            Assert.True(result.ExitCode == 0, $"run {run}: {result}");
            Assert.DoesNotContain(scratch.AppPassword, result.Output);
            Assert.DoesNotContain(scratch.OwnerPassword, result.Output);
        }

        await using (var owner = await OpenAsync(scratch.ConnectionString(scratch.Roles.Owner, scratch.OwnerPassword)))
        {
            await Sql.ExecuteAsync(owner, "CREATE TABLE things (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)");
        }
        await using (var superuser = await OpenAsync(scratch.SuperuserConnectionString))
        {
            Assert.Equal(["things"], await AssertRolesAsync(superuser, scratch.Roles.Owner, scratch.Roles.App));
        }
        await using var app = await OpenAsync(scratch.ConnectionString(scratch.Roles.App, scratch.AppPassword));
        await Sql.ExecuteAsync(app, "INSERT INTO things (name) VALUES ('a')");
        await AssertRefusedAsync(app, "CREATE TABLE more_things (id int)");
        await AssertRefusedAsync(app, "COPY (SELECT 1) TO PROGRAM 'true'");

        // Without the passwords the script stops before touching the database.
        var missing = Path.Combine(Path.GetTempPath(), $"{scratch.Roles.DatabaseName}-missing.sh");
        await File.WriteAllTextAsync(missing, scratch.Roles.InitScript());
        try
        {
            var run = await RunInitScriptAsync(missing, new() { ["PGHOST"] = server.Host!, ["PGPORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["PGPASSWORD"] = server.Password! });
            Assert.True(run.ExitCode != 0, run.ToString());
            Assert.Contains($"{DatabaseRoles.OwnerPasswordVariable} is not set", run.Output);
        }
        finally
        {
            File.Delete(missing);
        }
    }

    /// <summary>
    /// Asserts that every table, view, sequence and function in the public schema belongs to
    /// <paramref name="owner"/>, that <paramref name="app"/> may use the rows (and sequences and
    /// functions) and nothing more, and that neither role has any power outside the database.
    /// Answers the tables and views found.
    /// </summary>
    private static async Task<List<string>> AssertRolesAsync(NpgsqlConnection superuser, string owner, string app)
    {
        var tables = new List<string>();
        await using (var command = new NpgsqlCommand("""
            SELECT c.relname, pg_get_userbyid(c.relowner),
                   has_table_privilege(@app, c.oid, 'SELECT'), has_table_privilege(@app, c.oid, 'INSERT'),
                   has_table_privilege(@app, c.oid, 'UPDATE'), has_table_privilege(@app, c.oid, 'DELETE'),
                   has_table_privilege(@app, c.oid, 'TRUNCATE'), has_table_privilege(@app, c.oid, 'REFERENCES'),
                   has_table_privilege(@app, c.oid, 'TRIGGER')
            FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
            """, superuser))
        {
            command.Parameters.AddWithValue("app", app);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var name = reader.GetString(0);
                tables.Add(name);
                Assert.True(reader.GetString(1) == owner, $"{name} is owned by {reader.GetString(1)}, not {owner}");
                if (name == "__EFMigrationsHistory")
                {
                    // The owner's record of the schema: readable, never writable by the service.
                    Assert.True(reader.GetBoolean(2), $"{app} cannot read {name}");
                    Assert.False(reader.GetBoolean(3) || reader.GetBoolean(4) || reader.GetBoolean(5), $"{app} may change {name}");
                }
                else
                {
                    Assert.True(reader.GetBoolean(2) && reader.GetBoolean(3) && reader.GetBoolean(4) && reader.GetBoolean(5), $"{app} cannot read and write {name}");
                }
                Assert.False(reader.GetBoolean(6) || reader.GetBoolean(7) || reader.GetBoolean(8), $"{app} may TRUNCATE, REFERENCE or TRIGGER {name}");
            }
        }
        Assert.Equal("", await ScalarAsync(superuser, $$"""
            SELECT concat_ws(', ',
                (SELECT string_agg(c.relname || ' (sequence)', ', ') FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
                   AND (pg_get_userbyid(c.relowner) <> '{{owner}}' OR NOT has_sequence_privilege('{{app}}', c.oid, 'USAGE'))),
                (SELECT string_agg(p.proname || ' (function)', ', ') FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
                   AND (pg_get_userbyid(p.proowner) <> '{{owner}}' OR NOT has_function_privilege('{{app}}', p.oid, 'EXECUTE'))),
                (SELECT 'database not owned by the owner' FROM pg_database WHERE datname = current_database() AND pg_get_userbyid(datdba) <> '{{owner}}'),
                (SELECT 'the service role may create in the schema' WHERE has_schema_privilege('{{app}}', 'public', 'CREATE')),
                (SELECT 'the service role may create temporary tables' WHERE has_database_privilege('{{app}}', current_database(), 'TEMPORARY')),
                (SELECT string_agg(r.rolname || ' has server-wide rights', ', ') FROM pg_roles r WHERE r.rolname IN ('{{owner}}', '{{app}}')
                   AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls)),
                (SELECT string_agg(u.rolname || ' is a member of ' || g.rolname, ', ') FROM pg_auth_members m
                   JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname IN ('{{owner}}', '{{app}}')))
            """));
        return tables;
    }

    /// <summary>A database of its own on the users-db server, with its own roles, dropped afterwards.</summary>
    private sealed class ScratchDatabase : IAsyncDisposable
    {
        private readonly string _server;

        private ScratchDatabase(string server, DatabaseRoles roles, string ownerPassword, string appPassword)
        {
            _server = server;
            Roles = roles;
            OwnerPassword = ownerPassword;
            AppPassword = appPassword;
        }

        public DatabaseRoles Roles { get; }
        public string OwnerPassword { get; }
        public string AppPassword { get; }

        public string SuperuserConnectionString => ConnectionString(null, null);

        public string ConnectionString(string? role, string? password)
        {
            var builder = new NpgsqlConnectionStringBuilder(_server) { Database = Roles.DatabaseName, Pooling = false };
            if (role is not null)
            {
                builder.Username = role;
                builder.Password = password;
            }
            return builder.ConnectionString;
        }

        /// <param name="password">The roles' passwords (the application role's with an "app" in front); new random ones by default.</param>
        public static async Task<ScratchDatabase> CreateAsync(ShopApp shop, bool create = true, string? password = null)
        {
            var server = await shop.App.GetConnectionStringAsync("users-db") ?? throw new InvalidOperationException("no users-db connection string");
            var name = "scratch_" + Guid.NewGuid().ToString("N")[..12];
            var ownerPassword = password ?? Guid.NewGuid().ToString("N");
            var appPassword = password is null ? Guid.NewGuid().ToString("N") : "app" + password;
            var roles = new DatabaseRoles(name,
                new ParameterResource(name + "-owner-password", _ => ownerPassword, secret: true),
                new ParameterResource(name + "-app-password", _ => appPassword, secret: true));
            var scratch = new ScratchDatabase(server, roles, ownerPassword, appPassword);
            if (create)
            {
                await using var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
                await Sql.ExecuteAsync(connection, $"CREATE DATABASE {name}");
            }
            return scratch;
        }

        /// <summary>The deployment's init script run against this database's server, as the postgres image runs it (<see cref="DatabasePrivilegeTests.RunInitScriptAsync"/>).</summary>
        public async Task<ChildProcess.Result> RunInitScriptAsync()
        {
            var server = new NpgsqlConnectionStringBuilder(_server);
            var script = Path.Combine(Path.GetTempPath(), $"{Roles.DatabaseName}-{Guid.NewGuid():N}.sh");
            await File.WriteAllTextAsync(script, Roles.InitScript());
            try
            {
                return await DatabasePrivilegeTests.RunInitScriptAsync(script, new()
                {
                    ["PGHOST"] = server.Host!,
                    ["PGPORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["PGPASSWORD"] = server.Password!,
                    ["POSTGRES_USER"] = server.Username!,
                    [DatabaseRoles.OwnerPasswordVariable] = OwnerPassword,
                    [DatabaseRoles.AppPasswordVariable] = AppPassword,
                });
            }
            finally
            {
                File.Delete(script);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await using var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(_server) { Database = "postgres", Pooling = false }.ConnectionString);
            await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Roles.DatabaseName} WITH (FORCE)");
            await Sql.ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Roles.App}");
            await Sql.ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Roles.Owner}");
        }
    }

    /// <summary>Runs the init script as the postgres image would, with only the variables given (none of this process's PG*/SHOP_*).</summary>
    private static async Task<ChildProcess.Result> RunInitScriptAsync(string script, Dictionary<string, string> environment)
    {
        var variables = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("PG", StringComparison.Ordinal) || k.StartsWith("SHOP_", StringComparison.Ordinal) || k == "POSTGRES_USER")
            .ToDictionary(k => k, string? (_) => null);
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }
        return await ChildProcess.RunAsync("sh", [script], environment: variables);
    }

    private async Task<NpgsqlConnection> OpenAsServiceAsync(string service, string database)
    {
        var environment = await shop.ProcessEnvironmentAsync(service);
        Assert.True(environment.TryGetValue($"ConnectionStrings__{database}", out var connectionString),
            $"{service} got no ConnectionStrings__{database}");
        return await OpenAsync(connectionString);
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs <paramref name="sql"/> (in a transaction rolled back afterwards) and expects PostgreSQL to refuse it for lack of privilege.</summary>
    private static async Task AssertRefusedAsync(NpgsqlConnection db, string sql)
    {
        await using var transaction = await db.BeginTransactionAsync();
        try
        {
            // A superuser's DROP would otherwise wait for the service's own locks on the table.
            await Sql.ExecuteAsync(db, "SET LOCAL lock_timeout = '2s'");
            var error = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync(db, sql));
            Assert.True(error.SqlState == PostgresErrorCodes.InsufficientPrivilege,
                $"{sql}: expected insufficient privilege (42501), got {error.SqlState}: {error.MessageText}");
        }
        catch (Xunit.Sdk.ThrowsException e)
        {
            throw new Xunit.Sdk.XunitException($"{sql} was allowed for {await ScalarAsync(db, "SELECT current_user")}: {e.Message}");
        }
        finally
        {
            await transaction.RollbackAsync();
        }
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
