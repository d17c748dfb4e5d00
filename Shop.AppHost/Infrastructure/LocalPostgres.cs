using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Shop.AppHost.Infrastructure;

/// <summary>A PostgreSQL server run as a local process (no container runtime), data kept on disk.</summary>
public sealed class LocalPostgresServerResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, Path.GetDirectoryName(dataDirectory)!), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";
    public const string SuperUser = "postgres";

    public string DataDirectory { get; } = dataDirectory;
    public ParameterResource PasswordParameter { get; } = password;
    public EndpointReference PrimaryEndpoint => new(this, EndpointName);
    internal List<LocalPostgresDatabaseResource> Databases { get; } = [];

    // Run mode only: a deployment's servers are containers.
    public ReferenceExpression ConnectionStringExpression => SuperuserConnectionString(PrimaryEndpoint, PasswordParameter);

    /// <summary>A server's superuser connection string in run mode: a local server's, and a container's (<see cref="PostgresSuperuserConnection"/>).</summary>
    internal static ReferenceExpression SuperuserConnectionString(EndpointReference server, ParameterResource password) =>
        PostgresConnectionString.Create(server, SuperUser, password, deployment: false);
}

/// <summary>
/// A container server's superuser connection string in run mode, as a local server's (<see cref="PostgresConnectionString"/>).
/// Aspire's own (<see cref="PostgresServerResource"/>) writes <c>Password={value}</c> unquoted, so a hand-set password
/// with a <c>;</c> was cut there, and one starting with a quote refused; its health check, Aspire's database step and the
/// roles step all read it, so run mode redirects it here (<c>WithConnectionStringRedirection</c>). Not in the app model:
/// nothing starts or waits for it.
/// </summary>
public sealed class PostgresSuperuserConnection(string name, EndpointReference server, ParameterResource password) : Resource(name), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression { get; } = LocalPostgresServerResource.SuperuserConnectionString(server, password);
}

/// <summary>A database on a <see cref="LocalPostgresServerResource"/>; created with its roles on first start, the roles repaired on every start.</summary>
public sealed class LocalPostgresDatabaseResource(string name, DatabaseRoles roles, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public string DatabaseName => Roles.DatabaseName;
    public DatabaseRoles Roles { get; } = roles;
    public LocalPostgresServerResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

public static class LocalPostgresBuilderExtensions
{
    private const string PostgresBin = "/usr/lib/postgresql/15/bin";

    /// <summary>The server binary of Debian's postgresql-15 package.</summary>
    public static string ServerPath { get; } = Path.Combine(PostgresBin, "postgres");

    // postgres treats SIGTERM as a "smart" shutdown that waits for pooled client connections to go
    // away, which never happens while services run. Turn the orchestrator's stop signal into a
    // fast shutdown (SIGINT) so a stop is quick and the data directory is left clean.
    private const string FastShutdownLauncher =
        "trap 'kill -INT \"$child\" 2>/dev/null' TERM INT; \"$@\" & child=$!; " +
        "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; done";

    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, string dataRoot, IResourceBuilder<ParameterResource> password)
    {
        var dataDirectory = Path.Combine(dataRoot, "postgres", name);
        var (command, launcherArgs) = LocalServerAccount.Wrap("/bin/sh", "-c", FastShutdownLauncher, "pg-launcher", ServerPath);
        var server = new LocalPostgresServerResource(name, command, dataDirectory, password.Resource);

        var healthKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthKey, async ct =>
            await CanQueryAsync(server, "postgres", ct));

        return builder.AddResource(server)
            // Not behind DCP's proxy: every query would pay an extra loopback hop.
            .WithEndpoint(name: LocalPostgresServerResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var arg in launcherArgs)
                {
                    context.Args.Add(arg);
                }
                context.Args.Add("-D");
                context.Args.Add(dataDirectory);
                context.Args.Add("-p");
                context.Args.Add(server.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=localhost");
                context.Args.Add("-c");
                context.Args.Add("unix_socket_directories=");
                context.Args.Add("-c");
                context.Args.Add("max_connections=300");
            })
            .WithHealthCheck(healthKey)
            .OnBeforeResourceStarted(async (resource, evt, ct) =>
            {
                var logger = evt.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource);
                await InitializeDataDirectoryAsync(resource, logger, ct);
            })
            .OnResourceReady(async (resource, evt, ct) =>
            {
                var logger = evt.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource);
                var notifications = evt.Services.GetRequiredService<ResourceNotificationService>();
                var superuser = await ((IResourceWithConnectionString)resource).GetConnectionStringAsync(ct)
                    ?? throw new InvalidOperationException($"{resource.Name} has no connection string.");
                foreach (var database in resource.Databases)
                {
                    await database.Roles.ApplyAsync(superuser, logger, ct);
                    // Aspire only propagates state to children of containers; do it for this executable.
                    await notifications.PublishUpdateAsync(database, s => s with { State = KnownResourceStates.Running });
                }
            });
    }

    /// <summary>The database <see cref="DatabaseRoles.DatabaseName"/>, a resource of that name; healthy once its roles are set up.</summary>
    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresServerResource> server, string name, DatabaseRoles roles)
    {
        var database = new LocalPostgresDatabaseResource(name, roles, server.Resource);
        server.Resource.Databases.Add(database);

        var healthKey = $"{name}_check";
        server.ApplicationBuilder.Services.AddHealthChecks().AddAsyncCheck(healthKey, async ct => roles.Applied
            ? await CanQueryAsync(server.Resource, database.DatabaseName, ct)
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("Roles not set up yet"));

        return server.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [new("DatabaseName", database.DatabaseName)],
            })
            .WithHealthCheck(healthKey);
    }

    private static async Task InitializeDataDirectoryAsync(LocalPostgresServerResource server, ILogger logger, CancellationToken ct)
    {
        var dataDirectory = server.DataDirectory;
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            logger.LogInformation("Using existing PostgreSQL data directory {DataDirectory}", dataDirectory);
            CleanStalePid(dataDirectory, logger);
            return;
        }

        Directory.CreateDirectory(dataDirectory);
        var password = await server.PasswordParameter.GetValueAsync(ct) ?? throw new InvalidOperationException("No PostgreSQL password.");
        var passwordFile = Path.Combine(Path.GetDirectoryName(dataDirectory)!, $".{server.Name}.pw");
        await File.WriteAllTextAsync(passwordFile, password, ct);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            LocalServerAccount.Own(dataDirectory);
            LocalServerAccount.Own(passwordFile);
            var (command, args) = LocalServerAccount.Wrap(Path.Combine(PostgresBin, "initdb"),
                "-D", dataDirectory, "-U", LocalPostgresServerResource.SuperUser, "--pwfile=" + passwordFile,
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions");
            logger.LogInformation("Initialising PostgreSQL data directory {DataDirectory}", dataDirectory);
            var (exitCode, output) = LocalServerAccount.Run(command, [.. args]);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"initdb failed ({exitCode}): {output}");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    // A crash (or SIGKILL) leaves postmaster.pid behind; postgres copes unless the pid was reused.
    private static void CleanStalePid(string dataDirectory, ILogger logger)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return;
        }
        var firstLine = File.ReadLines(pidFile).FirstOrDefault();
        if (int.TryParse(firstLine, out var pid) && !Directory.Exists($"/proc/{pid}"))
        {
            logger.LogWarning("Removing stale {PidFile} of a server that is no longer running", pidFile);
            File.Delete(pidFile);
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(LocalPostgresServerResource server, string database, CancellationToken ct)
    {
        var serverConnectionString = await ((IResourceWithConnectionString)server).GetConnectionStringAsync(ct);
        var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString)
        {
            Database = database,
            Pooling = false,
            Timeout = 5,
        }.ConnectionString;
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    private static async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CanQueryAsync(
        LocalPostgresServerResource server, string database, CancellationToken ct)
    {
        try
        {
            await using var connection = await OpenAsync(server, database, ct);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(ct);
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
