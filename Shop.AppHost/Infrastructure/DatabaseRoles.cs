using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Shop.AppHost.Infrastructure;

/// <summary>
/// The two PostgreSQL roles of one service database. <c>&lt;db&gt;_owner</c> owns the database, its
/// schema and every object in it, and applies the migrations. <c>&lt;db&gt;_app</c> is what the service
/// serves requests with: it may read and write the rows of every table, use the sequences and run the
/// functions, and nothing else — no DDL, no TRUNCATE, no server files or programs, no roles. Neither
/// role is a superuser, may create roles or databases, or belongs to any other role.
/// <para>
/// One SQL script sets this up, idempotently: in run mode the AppHost applies it as the superuser each
/// time the server is ready (so an older data directory, whose tables the superuser owns, is repaired
/// and a changed password takes effect); a deployment runs it once from the postgres image's
/// <c>/docker-entrypoint-initdb.d</c> when the data volume is initialised (<see cref="InitScript"/>).
/// </para>
/// </summary>
public sealed class DatabaseRoles(string databaseName, ParameterResource ownerPassword, ParameterResource appPassword)
{
    /// <summary>Where the postgres image runs its initialisation scripts, and the name of ours there.</summary>
    public const string InitScriptDirectory = "/docker-entrypoint-initdb.d";
    public const string InitScriptName = "10-shop-roles.sh";

    /// <summary>The postgres container's variables holding the two passwords for <see cref="InitScript"/>.</summary>
    public const string OwnerPasswordVariable = "SHOP_OWNER_PASSWORD";
    public const string AppPasswordVariable = "SHOP_APP_PASSWORD";

    public string DatabaseName { get; } = databaseName;
    public string Owner { get; } = databaseName + "_owner";
    public string App { get; } = databaseName + "_app";
    public ParameterResource OwnerPassword { get; } = ownerPassword;
    public ParameterResource AppPassword { get; } = appPassword;

    /// <summary>Whether <see cref="ApplyAsync"/> has completed since the AppHost started: until then the database is not healthy.</summary>
    public bool Applied => _applied;

    private volatile bool _applied;

    /// <summary>The owner's connection string to this database (<see cref="PostgresConnectionString.Create"/>).</summary>
    /// <param name="deployment">For a deployment's files (publish mode), rather than for the processes this AppHost runs.</param>
    public ReferenceExpression OwnerConnectionString(EndpointReference server, bool deployment) =>
        PostgresConnectionString.Create(server, Owner, OwnerPassword, deployment, DatabaseName);

    /// <summary>The application role's connection string to this database (<see cref="PostgresConnectionString.Create"/>).</summary>
    /// <inheritdoc cref="OwnerConnectionString" path="/param"/>
    public ReferenceExpression AppConnectionString(EndpointReference server, bool deployment) =>
        PostgresConnectionString.Create(server, App, AppPassword, deployment, DatabaseName);

    /// <summary>Creates the database when it is missing, then applies <see cref="Script"/> to it, as the superuser.</summary>
    public async Task ApplyAsync(string superuserConnectionString, ILogger logger, CancellationToken ct)
    {
        var server = new NpgsqlConnectionStringBuilder(superuserConnectionString) { Pooling = false, Timeout = 5 };
        await EnsureDatabaseAsync(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres" }.ConnectionString, logger, ct);

        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = DatabaseName }.ConnectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Transaction-local settings: the passwords do not outlive the script.
        await using (var settings = new NpgsqlCommand(
            "SELECT set_config('shop.owner_role', @owner, true), set_config('shop.owner_password', @ownerPassword, true), " +
            "set_config('shop.app_role', @app, true), set_config('shop.app_password', @appPassword, true)", connection, transaction))
        {
            settings.Parameters.AddWithValue("owner", Owner);
            settings.Parameters.AddWithValue("ownerPassword", await PasswordAsync(OwnerPassword, ct));
            settings.Parameters.AddWithValue("app", App);
            settings.Parameters.AddWithValue("appPassword", await PasswordAsync(AppPassword, ct));
            await settings.ExecuteNonQueryAsync(ct);
        }
        await using (var script = new NpgsqlCommand(Script, connection, transaction))
        {
            await script.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        _applied = true;
        logger.LogInformation("Database {Database}: schema owned by {Owner}, the service connects as {App}", DatabaseName, Owner, App);
    }

    private static async Task<string> PasswordAsync(ParameterResource parameter, CancellationToken ct) =>
        await parameter.GetValueAsync(ct) is { Length: > 0 } value ? value : throw new InvalidOperationException($"Parameter '{parameter.Name}' has no value.");

    private async Task EnsureDatabaseAsync(string maintenanceConnectionString, ILogger logger, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(maintenanceConnectionString);
        await connection.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", DatabaseName);
        if (await exists.ExecuteScalarAsync(ct) is not null)
        {
            return;
        }
        logger.LogInformation("Creating database {Database}", DatabaseName);
        // Identifiers cannot be parameters; the name comes from the AppHost code, quoted anyway.
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName.Replace("\"", "\"\"")}\"", connection);
        try
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another start got there first.
        }
    }

    /// <summary>
    /// A shell script for the postgres image's <c>/docker-entrypoint-initdb.d</c>: it runs once, when the
    /// data volume is initialised (the database itself comes from <c>POSTGRES_DB</c> or is created here),
    /// with the passwords from the container's <see cref="OwnerPasswordVariable"/> and <see cref="AppPasswordVariable"/>.
    /// Sourced or executed by the image's entrypoint, as the superuser over the local socket.
    /// </summary>
    public string InitScript() => $$"""
        #!/bin/sh
        # The roles of {{DatabaseName}}: {{Owner}} owns the schema and runs the migrations, {{App}} is what the
        # service connects with (rows only). Generated by the Shop AppHost; the postgres image runs it once,
        # when the data volume is initialised. It is idempotent: run it again to apply changed passwords.
        psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
          -v db='{{DatabaseName}}' <<'SQL'
        SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
        SQL
        psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname '{{DatabaseName}}' \
          -v owner='{{Owner}}' -v app='{{App}}' \
          -v owner_password="${{{OwnerPasswordVariable}}:?{{OwnerPasswordVariable}} is not set}" \
          -v app_password="${{{AppPasswordVariable}}:?{{AppPasswordVariable}} is not set}" <<'SQL'
        BEGIN;
        -- \gset keeps the values (passwords) out of the output.
        SELECT set_config('shop.owner_role', :'owner', true) AS owner_set, set_config('shop.owner_password', :'owner_password', true) AS owner_password_set,
               set_config('shop.app_role', :'app', true) AS app_set, set_config('shop.app_password', :'app_password', true) AS app_password_set \gset
        {{Script}}
        COMMIT;
        SQL

        """;

    /// <summary>
    /// The roles, ownership and grants, run in the service's database as the superuser. Reads the role
    /// names and passwords from the transaction's settings <c>shop.owner_role</c>, <c>shop.owner_password</c>,
    /// <c>shop.app_role</c>, <c>shop.app_password</c>.
    /// </summary>
    public const string Script = """
        DO $roles$
        DECLARE
            owner_role text := current_setting('shop.owner_role');
            app_role text := current_setting('shop.app_role');
            owner_oid oid;
            role_name text;
            item record;
        BEGIN
            -- Both roles log in and may do nothing server-wide, and belong to no other role
            -- (pg_execute_server_program, pg_read_server_files, pg_write_server_files, each other, ...).
            FOREACH role_name IN ARRAY ARRAY[owner_role, app_role] LOOP
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
                    EXECUTE format('CREATE ROLE %I', role_name);
                END IF;
                EXECUTE format('ALTER ROLE %I WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
                    role_name, current_setting(CASE WHEN role_name = owner_role THEN 'shop.owner_password' ELSE 'shop.app_password' END));
                FOR item IN SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
                            WHERE u.rolname = role_name LOOP
                    EXECUTE format('REVOKE %I FROM %I', item.rolname, role_name);
                END LOOP;
            END LOOP;
            SELECT oid INTO owner_oid FROM pg_roles WHERE rolname = owner_role;

            -- The database and its schema belong to the owner; only the two roles may connect, only the owner creates.
            EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), owner_role);
            EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
            EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), app_role);
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app_role);
            EXECUTE format('ALTER SCHEMA public OWNER TO %I', owner_role);
            EXECUTE format('REVOKE ALL ON SCHEMA public FROM PUBLIC, %I', app_role);
            EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app_role);

            -- Objects made before the roles existed (by the superuser, in older data directories) pass to the owner.
            -- Indexes, and sequences of identity and serial columns, follow their table.
            FOR item IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
                        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner <> owner_oid LOOP
                EXECUTE format('ALTER %s %s OWNER TO %I',
                    CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                    item.name, owner_role);
            END LOOP;
            FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
                        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S' AND c.relowner <> owner_oid
                          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')) LOOP
                EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', item.name, owner_role);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                        WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p') AND p.proowner <> owner_oid LOOP
                EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.name, owner_role);
            END LOOP;
            FOR item IN SELECT t.oid::regtype AS name, t.typtype FROM pg_type t
                        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r') AND t.typowner <> owner_oid LOOP
                EXECUTE format('ALTER %s %s OWNER TO %I', CASE item.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, item.name, owner_role);
            END LOOP;

            -- The service's role: the rows of every table, its sequences and functions, and nothing more;
            -- what an earlier setup or someone by hand granted beyond that is taken back.
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, %I', app_role);
            EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, %I', app_role);
            EXECUTE format('REVOKE ALL ON ALL ROUTINES IN SCHEMA public FROM PUBLIC, %I', app_role);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', app_role);
            EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', app_role);
            EXECUTE format('GRANT EXECUTE ON ALL ROUTINES IN SCHEMA public TO %I', app_role);
            -- EF's migration history is the owner's: the service may read it (to see nothing is pending), not change it.
            IF to_regclass('public."__EFMigrationsHistory"') IS NOT NULL THEN
                EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON public."__EFMigrationsHistory" FROM %I', app_role);
            END IF;
            -- The same for everything later migrations create, without a grant in each migration.
            EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE EXECUTE ON ROUTINES FROM PUBLIC', owner_role);
            EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner_role, app_role);
            EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT USAGE ON SEQUENCES TO %I', owner_role, app_role);
            EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT EXECUTE ON ROUTINES TO %I', owner_role, app_role);
        END
        $roles$;
        """;
}
