using System.Net.Sockets;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Npgsql;
using Shop.AppHost.Infrastructure;
using Shop.Publishing;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Run mode's own PostgreSQL connection strings (the roles step and the health checks connect with the superuser's,
/// the services with the roles'), evaluated as the AppHost evaluates them and parsed by Npgsql, and the passwords it
/// refuses: no AppHost is started (some tests build its app model, as <c>dotnet run</c> does before starting it).
/// </summary>
public sealed class LocalPostgresConnectionStringTests
{
    /// <summary>A <c>;</c> ended an unquoted <c>Password=</c>, spaces at either end were trimmed, a leading <c>"</c> opened a quoted value.</summary>
    [Theory]
    [InlineData(" pa;ss=w$rd\"x ")]
    [InlineData("\"super;user")]
    [InlineData("it's")] // a ' ended the hand-written quotes
    [InlineData("'")]
    [InlineData("a'';b")]
    [InlineData(" \"'; =x ")]
    public async Task The_superuser_password_reaches_the_connection_string_whole(string password)
    {
        var server = Server(password);

        var connectionString = await server.ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken);

        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.Equal(("localhost", 15432, LocalPostgresServerResource.SuperUser, password), (parsed.Host, parsed.Port, parsed.Username, parsed.Password));
    }

    /// <summary>The owner's and the application role's connection strings, which run mode gives the services, hold any character too.</summary>
    [Theory]
    [InlineData("it's")]
    [InlineData(" \"'; =x ")]
    public async Task A_role_password_reaches_the_services_connection_string_whole(string password)
    {
        var server = Server("unused");
        var roles = new DatabaseRoles("usersdb", new ParameterResource("users-db-owner-password", _ => password, secret: true),
            new ParameterResource("users-db-app-password", _ => "app" + password, secret: true));

        var owner = new NpgsqlConnectionStringBuilder(await roles.OwnerConnectionString(server.PrimaryEndpoint, deployment: false).GetValueAsync(TestContext.Current.CancellationToken));
        var app = new NpgsqlConnectionStringBuilder(await roles.AppConnectionString(server.PrimaryEndpoint, deployment: false).GetValueAsync(TestContext.Current.CancellationToken));

        Assert.Equal(("usersdb_owner", password, "usersdb"), (owner.Username, owner.Password, owner.Database));
        Assert.Equal(("usersdb_app", "app" + password, "usersdb"), (app.Username, app.Password, app.Database));
    }

    /// <summary>
    /// With containers, Aspire's own <see cref="PostgresServerResource"/> writes <c>Password={value}</c> unquoted, and its
    /// health check, its database step and the AppHost's roles step connect with that string. The model is built here,
    /// not started: no container runs on these machines, so this path is not exercised end to end.
    /// </summary>
    [Theory]
    [InlineData(" pa;ss=w$rd\"x ")]
    [InlineData("\"super;user")]
    [InlineData("it's")]
    public async Task A_container_servers_superuser_password_reaches_its_connection_strings_whole(string password)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
            ["Shop:GatewayPort=0", "Shop:Infrastructure=containers", $"Parameters:users-db-password={password}"], ct);
        var server = builder.Resources.OfType<PostgresServerResource>().Single(r => r.Name == "users-db");
        Allocate(server);
        var database = builder.Resources.OfType<PostgresDatabaseResource>().Single(d => d.Parent == server);

        var superuser = new NpgsqlConnectionStringBuilder(await ((IResourceWithConnectionString)server).GetConnectionStringAsync(ct));
        var inDatabase = new NpgsqlConnectionStringBuilder(await ((IResourceWithConnectionString)database).GetConnectionStringAsync(ct));

        Assert.Equal(("localhost", 15432, "postgres", password), (superuser.Host, superuser.Port, superuser.Username, superuser.Password));
        Assert.Equal(("postgres", password, "usersdb"), (inDatabase.Username, inDatabase.Password, inDatabase.Database));
    }

    /// <summary>
    /// A control character in a PostgreSQL password: initdb (<c>--pwfile</c>, and the postgres image's from
    /// <c>POSTGRES_PASSWORD</c>) keeps only the first line, so the server's password was not the one the AppHost
    /// connected with, and the roles step's failure named nothing the developer set. Refused before anything starts.
    /// </summary>
    [Theory]
    [InlineData("users-db-password", "first\nsecond")]
    [InlineData("orders-db-owner-password", "carriage\r")]
    [InlineData("inventory-db-app-password", "tab\there")]
    public async Task A_postgres_password_with_a_control_character_is_refused_at_start_naming_the_parameter(string parameter, string password) =>
        await AssertRefusedAtStartAsync(parameter, password, PublishConventions.PrintableCharacters);

    /// <summary>
    /// Redis' password in run mode, set by hand: the services' connection string (<c>localhost:port,password=…</c>) is split
    /// by StackExchange.Redis at every <c>,</c> and its values trimmed, so the services sent another password and Redis refused
    /// them, naming nothing the developer set; a publish already refused such a value. Refused before anything starts, as a
    /// PostgreSQL password is.
    /// </summary>
    [Theory]
    [InlineData("a,b", "Redis' password")]
    [InlineData(" padded", "Redis' password")]
    [InlineData("line\nbreak", "control character")]
    public async Task A_redis_password_its_connection_string_cannot_hold_is_refused_at_start_naming_the_parameter(string password, string reason) =>
        await AssertRefusedAtStartAsync("redis-password", password, reason);

    /// <summary>Building the AppHost's model (as <c>dotnet run</c> does first) with <paramref name="value"/> fails, naming the parameter and why, not the value.</summary>
    private static async Task AssertRefusedAtStartAsync(string parameter, string value, string reason)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
                ["Shop:GatewayPort=0", $"Parameters:{parameter}={value}"], TestContext.Current.CancellationToken);
        });

        var message = string.Join(" | ", Messages(refused));
        Assert.Contains($"Parameter '{parameter}'", message);
        Assert.Contains(reason, message);
        Assert.DoesNotContain(value, message);

        static IEnumerable<string> Messages(Exception? e)
        {
            for (; e is not null; e = e.InnerException)
            {
                yield return e.Message;
            }
        }
    }

    private static void Allocate(IResource resource)
    {
        var endpoint = resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "tcp");
        endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", 15432);
    }

    private static LocalPostgresServerResource Server(string password)
    {
        var server = new LocalPostgresServerResource("users-db", "/bin/true", Path.Combine(Path.GetTempPath(), "postgres", "users-db"),
            new ParameterResource("users-db-password", _ => password, secret: true));
        var endpoint = new EndpointAnnotation(ProtocolType.Tcp, uriScheme: "tcp", name: LocalPostgresServerResource.EndpointName, isProxied: false);
        endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", 15432);
        server.Annotations.Add(endpoint);
        return server;
    }
}
