using System.Net.Sockets;
using Aspire.Hosting.ApplicationModel;
using Npgsql;
using Shop.AppHost.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Run mode's own superuser connection string (the roles step and the health checks connect with it), evaluated as
/// the AppHost evaluates it and parsed by Npgsql: no AppHost is started.
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
