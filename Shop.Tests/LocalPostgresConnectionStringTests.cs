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
    public async Task The_superuser_password_reaches_the_connection_string_whole(string password)
    {
        var server = new LocalPostgresServerResource("users-db", "/bin/true", Path.Combine(Path.GetTempPath(), "postgres", "users-db"),
            new ParameterResource("users-db-password", _ => password, secret: true));
        var endpoint = new EndpointAnnotation(ProtocolType.Tcp, uriScheme: "tcp", name: LocalPostgresServerResource.EndpointName, isProxied: false);
        endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", 15432);
        server.Annotations.Add(endpoint);

        var connectionString = await server.ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken);

        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.Equal(("localhost", 15432, LocalPostgresServerResource.SuperUser, password), (parsed.Host, parsed.Port, parsed.Username, parsed.Password));
    }
}
