using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Publishing;

namespace Shop.AppHost.Infrastructure;

/// <summary>
/// PostgreSQL and Redis for the Shop, as containers where a container runtime answers (and always in
/// publish mode) or as local server processes where none does. Either way the result is a resource
/// with a connection string, so <c>WithReference</c>/<c>WaitFor</c> read the same.
/// </summary>
public sealed class ShopInfrastructure
{
    /// <summary>The users the images run as (the images themselves: <see cref="BaseImageSet"/>).</summary>
    public static class Images
    {
        /// <summary>The postgres user of the Alpine images: uid and gid 70 (the Debian images use 999).</summary>
        public const long PostgresUser = 70;

        /// <summary>The redis user of the Alpine images: uid 999, gid 1000.</summary>
        public const long RedisUser = 999;
        public const long RedisGroup = 1000;

        /// <summary>Redis' container memory limit in a deployment, MiB.</summary>
        public const int RedisMemoryLimitMiB = 512;

        /// <summary>
        /// Redis' <c>--maxmemory</c>, MiB: half the limit, as rewriting the append-only file forks Redis and the
        /// copy-on-write pages and the clients' buffers come on top of the data set.
        /// </summary>
        public const int RedisMaxMemoryMiB = RedisMemoryLimitMiB / 2;
    }

    public const string DataDirectoryKey = "Shop:DataDirectory";
    public const string EphemeralDataKey = "Shop:EphemeralData";

    private readonly IDistributedApplicationBuilder _builder;

    private ShopInfrastructure(IDistributedApplicationBuilder builder, InfrastructureMode mode, string dataRoot)
    {
        _builder = builder;
        ConnectionBudget = DatabaseConnectionBudget.From(builder.Configuration, ShopAppHostSettings.From(builder.Configuration).Replicas, builder.ExecutionContext.IsPublishMode);
        Mode = mode;
        DataRoot = dataRoot;
        BaseImages = BaseImageSet.From(builder.Configuration);
        // Run mode's containers keep their data on the Docker host's disk, with no volume size to fit.
        MaxWalSizeMB = builder.ExecutionContext.IsPublishMode
            ? (int)Math.Clamp(new k8s.Models.ResourceQuantity(PublishOptions.From(builder.Configuration).StorageSize).ToInt64() / 4 / (1024 * 1024), 80, 1024)
            : 1024;
        EphemeralData = builder.ExecutionContext.IsRunMode && IsEphemeral(builder);
    }

    /// <summary>Official images, or the locally built ones (<see cref="BaseImageSet.ConfigurationKey"/>).</summary>
    public BaseImageSet BaseImages { get; }

    public InfrastructureMode Mode { get; }

    /// <summary>Each service process's pool and the <c>max_connections</c> its server needs for all of them.</summary>
    public DatabaseConnectionBudget ConnectionBudget { get; }

    /// <summary>
    /// PostgreSQL keeps up to <c>max_wal_size</c> of write-ahead log (1 GB by default) in its data directory after a burst
    /// of writes: on a deployment's volume (<c>Shop:Publish:StorageSize</c>, 1Gi) that alone can fill it, and a server whose
    /// disk is full stops. A quarter of the volume, at least PostgreSQL's <c>min_wal_size</c> (80 MB), at most its default (run mode's).
    /// </summary>
    public int MaxWalSizeMB { get; }

    /// <summary>Where local servers keep their data (unused for containers, which use named volumes).</summary>
    public string DataRoot { get; }

    /// <summary>
    /// A test host's throw-away data (<see cref="EphemeralDataKey"/>): local servers in a temporary
    /// directory; containers without a named volume, so a run starts on empty databases, two hosts at
    /// once share nothing, and the data goes when the orchestrator removes the containers.
    /// </summary>
    public bool EphemeralData { get; }

    public static ShopInfrastructure Create(IDistributedApplicationBuilder builder)
    {
        var mode = InfrastructureModeDetector.Detect(builder, out var reason);
        var dataRoot = ResolveDataRoot(builder);
        builder.Services.AddHostedService(sp => new ChoiceLogger(sp.GetRequiredService<ILogger<ShopInfrastructure>>(), mode, reason, dataRoot));
        if (mode == InfrastructureMode.LocalProcesses)
        {
            // `./shop run` installs the servers before it starts the AppHost; `aspire run` and `dotnet run` do not.
            // Said before the resources start: a server that cannot start holds the start-up back.
            builder.Eventing.Subscribe<BeforeStartEvent>((evt, _) =>
            {
                if (MissingServers() is { Count: > 0 } missing)
                {
                    evt.Services.GetRequiredService<ILogger<ShopInfrastructure>>().LogWarning(
                        "{Servers} not installed, so those resources cannot start: run ./shop run once (it installs them) or apt-get install postgresql-15 redis-server.",
                        string.Join(" and ", missing));
                }
                return Task.CompletedTask;
            });
        }
        return new ShopInfrastructure(builder, mode, dataRoot);
    }

    private static List<string> MissingServers()
    {
        var missing = new List<string>();
        if (!File.Exists(LocalPostgresBuilderExtensions.ServerPath))
        {
            missing.Add($"PostgreSQL 15 ({LocalPostgresBuilderExtensions.ServerPath})");
        }
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (!path.Any(dir => File.Exists(Path.Combine(dir, LocalRedisBuilderExtensions.ServerCommand))))
        {
            missing.Add($"Redis ({LocalRedisBuilderExtensions.ServerCommand} on PATH)");
        }
        return missing;
    }

    /// <summary>
    /// One PostgreSQL server named <paramref name="serverName"/> holding one database, with the
    /// database's owner and application roles (<see cref="DatabaseRoles"/>).
    /// </summary>
    public ServiceDatabase AddPostgresDatabase(string serverName, string databaseName)
    {
        var password = AddPostgresPassword($"{serverName}-password");
        var roles = new DatabaseRoles(databaseName, AddPostgresPassword($"{serverName}-owner-password").Resource, AddPostgresPassword($"{serverName}-app-password").Resource);
        ServiceDatabase Database(IResourceBuilder<IResourceWithConnectionString> resource, EndpointReference server, bool deployment) =>
            new(resource, databaseName, roles.OwnerConnectionString(server, deployment), roles.AppConnectionString(server, deployment), ConnectionBudget.PoolPerProcess);

        if (Mode == InfrastructureMode.Containers)
        {
            var server = _builder.AddPostgres(serverName, password: password)
                .WithImage(BaseImages.PostgresImage, BaseImages.PostgresTag)
                .WithRegistry(BaseImages.PostgresRegistry)
                // A deployment runs it as that user, not root; the server's socket and lock file go to /var/run/postgresql.
                .WithContainerRuntime(Images.PostgresUser, Images.PostgresUser, "/var/run/postgresql")
                // Both images' entrypoints start the server with arguments that begin with '-'.
                .WithArgs("-c", $"max_connections={ConnectionBudget.MaxConnections}", "-c", $"max_wal_size={MaxWalSizeMB}MB")
                // A deployment's memory for the connections it accepts: each is a process of its own.
                .WithDeploymentMemory($"{ConnectionBudget.MemoryRequestMiB}Mi", $"{ConnectionBudget.MemoryLimitMiB}Mi");
            if (!EphemeralData)
            {
                server.WithDataVolume($"shop-{serverName}-data");
            }
            var database = server.AddDatabase(databaseName);
            var deployment = _builder.ExecutionContext.IsPublishMode;
            if (deployment)
            {
                // A deployment's server creates the roles itself when its volume is initialised.
                server.WithContainerFiles(DatabaseRoles.InitScriptDirectory, [new ContainerFile { Name = DatabaseRoles.InitScriptName, Contents = roles.InitScript() }])
                    .WithEnvironment(DatabaseRoles.OwnerPasswordVariable, roles.OwnerPassword)
                    .WithEnvironment(DatabaseRoles.AppPasswordVariable, roles.AppPassword);
            }
            else
            {
                // As for local servers: the superuser's connection string holds any password whole, the AppHost
                // sets the roles up on every start, and the database is healthy (its services start) only once it has.
                server.WithConnectionStringRedirection(new PostgresSuperuserConnection($"{serverName}-superuser", server.Resource.PrimaryEndpoint, password.Resource))
                    .OnResourceReady(async (resource, evt, ct) =>
                        await roles.ApplyAsync(await resource.GetConnectionStringAsync(ct) ?? throw new InvalidOperationException($"{serverName} has no connection string."),
                            evt.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource), ct));
                var healthKey = $"{databaseName}_roles_check";
                _builder.Services.AddHealthChecks().AddCheck(healthKey, () => roles.Applied
                    ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
                    : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("Roles not set up yet"));
                database.WithHealthCheck(healthKey);
            }
            return Database(database, server.Resource.PrimaryEndpoint, deployment);
        }
        var local = _builder.AddLocalPostgres(serverName, DataRoot, password);
        return Database(local.AddDatabase(databaseName, roles), local.Resource.PrimaryEndpoint, deployment: false);
    }

    private IResourceBuilder<ParameterResource> AddPassword(string name) =>
        _builder.AddParameter(name, new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);

    /// <summary>
    /// A PostgreSQL password. In run mode one set by hand holding a control character is refused before anything
    /// starts: initdb keeps only its first line, and the server then refused the AppHost's own connections naming
    /// nothing the developer set.
    /// </summary>
    private IResourceBuilder<ParameterResource> AddPostgresPassword(string name) =>
        AddCheckedPassword(name, value => PublishConventions.HoldsControlCharacter(value)
            ? $"it holds a control character, and a PostgreSQL password can be {PublishConventions.PrintableCharacters}"
            : null);

    /// <summary>
    /// A password whose value, when set by hand in run mode, is refused here, before anything starts, if
    /// <paramref name="unusable"/> gives a reason (configuration is the only place such a value comes from; a generated
    /// one is letters and digits). A publish refuses the same values (<see cref="PublishConventions.UnusableValue(DistributedApplicationModel, ParameterResource, string)"/>).
    /// </summary>
    private IResourceBuilder<ParameterResource> AddCheckedPassword(string name, Func<string, string?> unusable)
    {
        var password = AddPassword(name);
        var key = ParameterValues.ConfigurationKey(password.Resource);
        if (_builder.ExecutionContext.IsRunMode && _builder.Configuration[key] is { } value && unusable(value) is { } reason)
        {
            throw new InvalidOperationException($"Parameter '{name}' ({key}) cannot have the value given: {reason}.");
        }
        return password;
    }

    public IResourceBuilder<IResourceWithConnectionString> AddRedis(string name)
    {
        // The services' connection string holds it as the publish does: a value refused there is refused here.
        var password = AddCheckedPassword($"{name}-password", PublishConventions.UnusableRedisPassword);

        if (Mode == InfrastructureMode.Containers)
        {
            var redis = _builder.AddRedis(name, password: password)
                .WithImage(BaseImages.RedisImage, BaseImages.RedisTag)
                .WithRegistry(BaseImages.RedisRegistry)
                .WithContainerRuntime(Images.RedisUser, Images.RedisGroup) // writes only to its data volume
                // Requested above its data cap: the clients' buffers and Redis' own memory come on top of the data set.
                .WithDeploymentMemory($"{Images.RedisMaxMemoryMiB + 64}Mi", $"{Images.RedisMemoryLimitMiB}Mi")
                .WithArgs(RedisServerCommandLine);
            if (!EphemeralData)
            {
                redis.WithDataVolume($"shop-{name}-data");
            }
            return redis.WithPersistence();
        }
        return _builder.AddLocalRedis(name, DataRoot, password);
    }

    /// <summary>
    /// Aspire starts Redis as <c>/bin/sh -c "redis-server …"</c>. A shell that stays PID 1 (Debian's does)
    /// never passes the stop signal on, so Docker and Kubernetes kill Redis at the end of their grace
    /// period, without its final save. <c>exec</c> makes redis-server the container's main process.
    /// Security stamps and revoked sessions live in Redis, so it also logs every write (append-only file,
    /// fsync every second, Redis' default) instead of only the snapshots of <c>WithPersistence</c>, up to a
    /// minute old after a crash (a revoked token valid again); and its memory is capped below the container's
    /// with the default noeviction policy: full, it refuses writes (an LRU policy would evict revocations).
    /// The options go into the line this rewrites: words added after a joined <c>sh -c</c> script would become
    /// the shell's <c>$0</c>, <c>$1</c>, never seen by Redis. The password is quoted there: the operator's may hold a
    /// space, a <c>*</c> or a <c>$</c>, which the shell would otherwise split or expand (Redis then refused its
    /// configuration: "wrong number of arguments").
    /// </summary>
    private static void RedisServerCommandLine(CommandLineArgsCallbackContext context)
    {
        string[] durability = ["--appendonly", "yes", "--maxmemory", $"{Images.RedisMaxMemoryMiB}mb"];
        const string Password = "--requirepass $REDIS_PASSWORD", QuotedPassword = "--requirepass \"$REDIS_PASSWORD\"";
        switch (context.Args)
        {
            // The command line's words, which the resource's ShellExecution joins into sh -c's script …
            case ["redis-server", ..]:
                var password = context.Args.IndexOf("--requirepass") + 1;
                if (password == 0 || context.Args[password] is not "$REDIS_PASSWORD")
                {
                    throw new InvalidOperationException($"Expected Aspire's Redis command line to hold {Password}, got: {string.Join(' ', context.Args)}");
                }
                context.Args[password] = "\"$REDIS_PASSWORD\"";
                context.Args.Insert(0, "exec");
                foreach (var word in durability)
                {
                    context.Args.Add(word);
                }
                break;
            // … or, for Aspire's own manifest, the script already joined.
            case ["-c", string script] when script.StartsWith("redis-server ", StringComparison.Ordinal) && script.Contains(Password, StringComparison.Ordinal):
                context.Args[1] = $"exec {script.Replace(Password, QuotedPassword, StringComparison.Ordinal)} {string.Join(' ', durability)}";
                break;
            default:
                throw new InvalidOperationException($"Expected Aspire's Redis command line to start with redis-server and hold {Password}, got: {string.Join(' ', context.Args)}");
        }
    }

    private static bool IsEphemeral(IDistributedApplicationBuilder builder) =>
        bool.TryParse(builder.Configuration[EphemeralDataKey], out var ephemeral) && ephemeral;

    private static string ResolveDataRoot(IDistributedApplicationBuilder builder)
    {
        if (IsEphemeral(builder))
        {
            return EphemeralDataRoot.Create(builder);
        }
        var configured = builder.Configuration[DataDirectoryKey];
        return string.IsNullOrWhiteSpace(configured)
            ? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".shop-data"))
            : Path.GetFullPath(configured);
    }

    private sealed class ChoiceLogger(ILogger logger, InfrastructureMode mode, string reason, string dataRoot) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (mode == InfrastructureMode.LocalProcesses)
            {
                logger.LogInformation("PostgreSQL and Redis run as local processes ({Reason}); data in {DataRoot}. Set {Key}=containers to change.", reason, dataRoot, InfrastructureModeDetector.ConfigurationKey);
            }
            else
            {
                logger.LogInformation("PostgreSQL and Redis run as containers ({Reason}). Set {Key}=local to change.", reason, InfrastructureModeDetector.ConfigurationKey);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>
/// A throw-away data root for test hosts: unique per AppHost instance (several may share one process),
/// deleted when the AppHost stops; leftovers of runs whose process died are removed at the next start.
/// Its name carries the owning process's id, so it says whose it is from the instant it exists: an owner file
/// written after the directory left a moment in which another AppHost starting took the new directory for a leftover.
/// </summary>
public static class EphemeralDataRoot
{
    private const string Prefix = "shop-ephemeral-";
    private const string LegacyOwnerFile = "owner.pid";

    public static string Create(IDistributedApplicationBuilder builder)
    {
        var root = CreateIn(Path.GetTempPath());
        builder.Services.AddHostedService(sp => new Cleanup(sp.GetRequiredService<IHostApplicationLifetime>(), root));
        return root;
    }

    /// <summary>A new data root under <paramref name="tempRoot"/>, after removing the leftovers there.</summary>
    public static string CreateIn(string tempRoot)
    {
        RemoveOrphans(tempRoot);
        var root = Path.Combine(tempRoot, DirectoryName(Environment.ProcessId));
        Directory.CreateDirectory(root);
        // For AppHosts of older checkouts starting beside this one: they know a live data root only by this file.
        File.WriteAllText(Path.Combine(root, LegacyOwnerFile), Environment.ProcessId.ToString());
        return root;
    }

    /// <summary>A new data root's name for the AppHost in process <paramref name="pid"/>.</summary>
    public static string DirectoryName(int pid) => $"{Prefix}{pid}-{Guid.NewGuid():N}";

    private static void RemoveOrphans(string tempRoot)
    {
        foreach (var dir in Directory.EnumerateDirectories(tempRoot, Prefix + "*"))
        {
            if (OwnerOf(dir) is not { } pid || !Directory.Exists($"/proc/{pid}"))
            {
                TryDelete(dir);
            }
        }
    }

    private static int? OwnerOf(string dir)
    {
        var owner = Path.GetFileName(dir)[Prefix.Length..].Split('-')[0];
        if (owner.Length < 32 && int.TryParse(owner, out var pid))
        {
            return pid;
        }
        // Named by an older AppHost (a checkout from before the id was in the name), which wrote its id into a file.
        var ownerFile = Path.Combine(dir, LegacyOwnerFile);
        return File.Exists(ownerFile) && int.TryParse(File.ReadAllText(ownerFile), out pid) ? pid : null;
    }

    internal static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still in use by a server that is shutting down; the next start removes it.
        }
    }

    private sealed class Cleanup(IHostApplicationLifetime lifetime, string root) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStopped.Register(() => TryDelete(root));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
