using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Shop.AppHost.Infrastructure;

/// <summary>A Redis server run as a local process (no container runtime), with append-only persistence.</summary>
public sealed class LocalRedisResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, dataDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public string DataDirectory { get; } = dataDirectory;
    public ParameterResource PasswordParameter { get; } = password;
    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={PasswordParameter}");
}

public static class LocalRedisBuilderExtensions
{
    /// <summary>The server command, looked up on PATH.</summary>
    public const string ServerCommand = "redis-server";

    /// <summary>
    /// How the server keeps its data in <paramref name="dataDirectory"/> and stops. Redis refuses to exit on SIGTERM when
    /// its final save fails (its directory deleted under it, a full disk: "Error trying to save the DB, can't exit"), and
    /// such a server outlived its AppHost for good; it exits anyway instead ("force"), the append-only file as of its
    /// last fsync (every second) kept.
    /// </summary>
    public static string[] ServerArguments(string dataDirectory) =>
        ["--dir", dataDirectory, "--appendonly", "yes", "--save", "60 1", "--daemonize", "no", "--shutdown-on-sigterm", "force"];

    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, string dataRoot, IResourceBuilder<ParameterResource> password)
    {
        var dataDirectory = Path.Combine(dataRoot, "redis", name);
        Directory.CreateDirectory(dataDirectory);
        var redis = new LocalRedisResource(name, ServerCommand, dataDirectory, password.Resource);

        var healthKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthKey, async ct =>
        {
            try
            {
                var options = ConfigurationOptions.Parse(await ((IResourceWithConnectionString)redis).GetConnectionStringAsync(ct) ?? "");
                options.AbortOnConnectFail = true;
                options.ConnectTimeout = 2000;
                await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                await connection.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is RedisException or InvalidOperationException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        });

        return builder.AddResource(redis)
            // Not behind DCP's proxy: every command would pay an extra loopback hop.
            .WithEndpoint(name: LocalRedisResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("-::1");
                foreach (var arg in ServerArguments(dataDirectory))
                {
                    context.Args.Add(arg);
                }
                context.Args.Add("--requirepass");
                context.Args.Add(redis.PasswordParameter);
            })
            .WithHealthCheck(healthKey);
    }
}
