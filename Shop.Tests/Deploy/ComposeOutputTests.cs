using Xunit;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Shop.Publishing;

namespace Shop.Tests.Deploy;

[Collection(PublishCollection.Name)]
public sealed partial class ComposeOutputTests(PublishOutput output)
{
    private readonly Dictionary<string, object> _compose = PublishOutput.LoadMap(Path.Combine(output.ComposeDirectory, "docker-compose.yaml"));
    private readonly Dictionary<string, string> _env = PublishOutput.LoadEnvFile(Path.Combine(output.ComposeDirectory, ".env"));
    private readonly AppHostManifest _manifest = AppHostManifest.Load(output.ManifestPath);

    private Dictionary<object, object> Services => (Dictionary<object, object>)_compose["services"];

    private Dictionary<object, object> Service(string name) => (Dictionary<object, object>)Services[name];

    /// <summary>The secret parameters' values in .env; an optional one is empty until set, no value to look for.</summary>
    private List<string> SecretValues() =>
        _manifest.Parameters.Where(p => p.Secret).Select(p => _env[AppHostManifest.Key(p.Name)]).Where(v => v.Length > 0).ToList();

    private static List<string> Strings(object? list) => ((List<object>?)list ?? []).Select(o => (string)o).ToList();

    private static Dictionary<string, string> Environment(Dictionary<object, object> service) =>
        service.TryGetValue("environment", out var env)
            ? ((Dictionary<object, object>)env).ToDictionary(kv => (string)kv.Key, kv => (string)kv.Value)
            : [];

    /// <summary>The service, its database, the server that holds it and the migration step that runs before it.</summary>
    public static readonly (string Service, string Database, string Server, string Migrate)[] ServiceDatabases =
    [
        ("users", "usersdb", "users-db", "users-migrate"),
        ("orders", "ordersdb", "orders-db", "orders-migrate"),
        ("inventory", "inventorydb", "inventory-db", "inventory-migrate"),
    ];

    [Fact]
    public void Every_AppHost_resource_is_a_compose_service()
    {
        var names = Services.Keys.Cast<string>().ToHashSet();
        // ... plus the one-shot migration step of each service with a database.
        Assert.Equal(_manifest.ComputeResources.Concat(ServiceDatabases.Select(d => d.Migrate)).Order(), names.Order());
        Assert.Superset(AppHostManifest.SpecComponents.ToHashSet(), names);
        // Each database is created by its server and named in a connection string.
        var yaml = File.ReadAllText(Path.Combine(output.ComposeDirectory, "docker-compose.yaml"));
        Assert.All(_manifest.Databases, db => Assert.Contains($"POSTGRES_DB: {db}", yaml));
    }

    /// <summary>What a key rotation sets, per service: the setting, and the optional parameter (empty unless the operator sets it) that fills it.</summary>
    public static readonly (string Service, string Setting, string Key)[] RotationSettings =
    [
        ("users", "Jwt__PreviousSigningKey", "JWT_PREVIOUS_SIGNING_KEY"),
        ("users", "ServiceAuth__Callers__orders__1", "ORDERS_SERVICE_KEY_ACCEPTED"),
        ("users", "ServiceAuth__Callers__inventory__1", "INVENTORY_SERVICE_KEY_ACCEPTED"),
        ("inventory", "ServiceAuth__Callers__orders__1", "ORDERS_SERVICE_KEY_ACCEPTED"),
    ];

    /// <summary>
    /// docs/deploy.md, rotating the JWT signing key or a service key: the settings a rotation needs reach the
    /// containers from <c>.env</c>, empty (compose's <c>${KEY:-}</c>: not refused as a missing value is) until the
    /// operator sets them there, and a value set there is kept by the next publish.
    /// </summary>
    [Fact]
    public async Task Key_rotation_settings_come_from_env_and_are_empty_until_set()
    {
        foreach (var (service, setting, key) in RotationSettings)
        {
            Assert.Equal($"${{{key}:-}}", Environment(Service(service)).GetValueOrDefault(setting));
            Assert.Equal("", _env.GetValueOrDefault(key, "(missing)"));
        }

        var directory = output.CopyOf(output.ComposeDirectory);
        var env = Path.Combine(directory, ".env");
        File.WriteAllText(env, File.ReadAllText(env).Replace("JWT_PREVIOUS_SIGNING_KEY=\n", "JWT_PREVIOUS_SIGNING_KEY=old-key\n", StringComparison.Ordinal));
        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-compose", "--output-path", directory);

        Assert.Equal("old-key", PublishOutput.LoadEnvFile(env)["JWT_PREVIOUS_SIGNING_KEY"]);
        if (PublishOutput.ComposeConfig(directory) is { } services)
        {
            Assert.Equal("old-key", PublishOutput.ComposeEnvironment(services["users"])["Jwt__PreviousSigningKey"]);
            Assert.Equal("", PublishOutput.ComposeEnvironment(services["inventory"])["ServiceAuth__Callers__orders__1"]);
        }
    }

    [Fact]
    public void Every_parameter_is_in_env_and_env_example_without_values()
    {
        var example = PublishOutput.LoadEnvFile(Path.Combine(output.ComposeDirectory, ".env.example"));
        foreach (var (name, _) in _manifest.Parameters)
        {
            var key = AppHostManifest.Key(name);
            // An optional parameter is there, empty (Key_rotation_settings_come_from_env_and_are_empty_until_set).
            Assert.False(_manifest.OptionalParameters.Contains(name) ? !_env.ContainsKey(key) : string.IsNullOrEmpty(_env.GetValueOrDefault(key)), $"{key} has no value in .env");
            Assert.True(example.ContainsKey(key), $"{key} missing from .env.example");
        }
        Assert.All(example.Values, v => Assert.Equal("", v));
        Assert.Contains(".env", File.ReadAllLines(Path.Combine(output.ComposeDirectory, ".gitignore")));
    }

    [Fact]
    public void Services_sample_traces_parent_based_at_the_trace_sample_ratio()
    {
        foreach (var name in new[] { "gateway", "users", "orders", "inventory" })
        {
            var environment = Environment(Service(name));
            Assert.Equal("parentbased_traceidratio", environment.GetValueOrDefault("OTEL_TRACES_SAMPLER"));
            Assert.Equal("${TRACE_SAMPLE_RATIO:?TRACE_SAMPLE_RATIO is not set in .env}", environment.GetValueOrDefault("OTEL_TRACES_SAMPLER_ARG"));
        }
        Assert.Equal("0.1", _env.GetValueOrDefault("TRACE_SAMPLE_RATIO"));
    }

    /// <summary>
    /// The gateway publishes its own port here, so the connection's address is the client's and no
    /// X-Forwarded-For is believed (a client would pick the address its sign-ins are counted under); the
    /// services believe the gateway's from private networks only. Aspire's own switch would trust anyone.
    /// </summary>
    [Fact]
    public void Only_the_services_believe_a_forwarded_client_address_and_only_from_private_networks()
    {
        foreach (var name in new[] { "gateway", "users", "orders", "inventory" })
        {
            Assert.DoesNotContain("ASPNETCORE_FORWARDEDHEADERS_ENABLED", Environment(Service(name)).Keys);
        }
        Assert.DoesNotContain(Environment(Service("gateway")).Keys, k => k.StartsWith("ForwardedHeaders__", StringComparison.Ordinal));
        foreach (var name in new[] { "users", "orders", "inventory" })
        {
            Assert.Equal("10.0.0.0/8", Environment(Service(name)).GetValueOrDefault("ForwardedHeaders__KnownNetworks__0"));
        }
    }

    [Fact]
    public void Jwt_signing_key_is_a_pkcs8_p256_key()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(_env["JWT_SIGNING_KEY"]), out _);
        Assert.Equal(256, key.KeySize);
    }

    [Fact]
    public void No_secret_value_appears_in_the_compose_file()
    {
        var yaml = File.ReadAllText(Path.Combine(output.ComposeDirectory, "docker-compose.yaml"));
        var secrets = SecretValues();
        Assert.NotEmpty(secrets);
        Assert.All(secrets, s => Assert.DoesNotContain(s, yaml));
    }

    [Fact]
    public void Every_variable_reference_is_defined_in_env()
    {
        var yaml = File.ReadAllText(Path.Combine(output.ComposeDirectory, "docker-compose.yaml"));
        var references = VariableReference().Matches(yaml).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains("USERS_DB_PASSWORD", references);
        Assert.All(references, r => Assert.True(_env.ContainsKey(r), $"${{{r}}} is not defined in .env"));
    }

    [Fact]
    public void Every_address_in_an_environment_value_is_a_declared_service_port()
    {
        var checkedAddresses = 0;
        foreach (var (name, service) in Services.Select(kv => ((string)kv.Key, (Dictionary<object, object>)kv.Value)))
        {
            foreach (var (key, value) in Environment(service))
            {
                foreach (Match match in Address().Matches(value))
                {
                    var host = match.Groups["host"].Value;
                    var port = match.Groups["port"].Value;
                    Assert.True(Services.ContainsKey(host), $"{name}: {key} points at unknown host {host}");
                    Assert.Contains(port, Strings(Service(host).GetValueOrDefault("expose")));
                    checkedAddresses++;
                }
            }
        }
        Assert.True(checkedAddresses >= 20, $"only {checkedAddresses} addresses found");
        Assert.Equal("http://users:8080", Environment(Service("gateway"))["services__users__http__0"]);
        Assert.StartsWith("Host=users-db;Port=5432;", Environment(Service("users"))["ConnectionStrings__usersdb"]);
    }

    [Fact]
    public void Depends_on_targets_exist_and_are_healthchecked()
    {
        foreach (var service in Services.Values.Cast<Dictionary<object, object>>().Where(s => s.ContainsKey("depends_on")))
        {
            foreach (var (target, condition) in ((Dictionary<object, object>)service["depends_on"]).Select(kv => ((string)kv.Key, (Dictionary<object, object>)kv.Value)))
            {
                Assert.True(Services.ContainsKey(target), $"depends_on {target} is not a service");
                if ((string)condition["condition"] == "service_healthy")
                {
                    Assert.True(Service(target).ContainsKey("healthcheck"), $"{target} has no healthcheck");
                }
            }
        }
        Assert.Equal(["users", "orders", "inventory", "web"], ((Dictionary<object, object>)Service("gateway")["depends_on"]).Keys.Cast<string>());
    }

    [Fact]
    public void Health_checks_use_the_right_tools()
    {
        Assert.Contains("pg_isready", Strings(((Dictionary<object, object>)Service("users-db")["healthcheck"])["test"]));
        var redisCheck = string.Join(' ', Strings(((Dictionary<object, object>)Service("redis")["healthcheck"])["test"]));
        Assert.Contains("redis-cli", redisCheck);
        Assert.DoesNotMatch(KubernetesHardeningTests.RedisPasswordArgument, redisCheck);
        foreach (var project in (string[])["users", "orders", "inventory", "gateway"])
        {
            Assert.Equal(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"],
                Strings(((Dictionary<object, object>)Service(project)["healthcheck"])["test"]));
        }
    }

    [Fact]
    public void Volumes_network_restart_ports_and_images_are_consistent()
    {
        var volumes = ((Dictionary<object, object>)_compose["volumes"]).Keys.Cast<string>().ToHashSet();
        foreach (var stateful in (string[])["users-db", "orders-db", "inventory-db", "redis"])
        {
            // One named volume each; the databases also mount their role script (a file of the output).
            var mounts = Strings(Service(stateful)["volumes"]).Where(m => !m.StartsWith("./", StringComparison.Ordinal)).ToList();
            Assert.Single(mounts);
            Assert.Contains(mounts[0].Split(':')[0], volumes);
        }
        Assert.Equal(4, volumes.Count);
        Assert.Equal(["msnet"], ((Dictionary<object, object>)_compose["networks"]).Keys.Cast<string>());
        var migrations = ServiceDatabases.Select(d => d.Migrate).ToHashSet();
        foreach (var (name, service) in Services.Select(kv => ((string)kv.Key, (Dictionary<object, object>)kv.Value)))
        {
            Assert.Equal(["msnet"], Strings(service["networks"]));
            // One-shot steps keep compose's default ("no"): a failed migration is not retried in a loop.
            Assert.Equal(migrations.Contains(name) ? null : "unless-stopped", service.GetValueOrDefault("restart"));
        }
        Assert.Equal(["8080:8080"], Strings(Service("gateway")["ports"]));
        Assert.Equal(1, Services.Values.Cast<Dictionary<object, object>>().Count(s => s.ContainsKey("ports")));
        Assert.Equal("${SHOP_REGISTRY:-shop}/users:${SHOP_TAG:-latest}", Service("users")["image"]);
        Assert.Equal("docker.io/library/postgres:15-alpine", Service("orders-db")["image"]);
        Assert.Equal("docker.io/library/redis:7-alpine", Service("redis")["image"]);
        Assert.True(Directory.Exists(Path.GetFullPath(Path.Combine(output.ComposeDirectory, (string)((Dictionary<object, object>)Service("web")["build"])["context"]))));
    }

    /// <summary>
    /// Each database server creates the owner and application roles when its volume is initialised (the
    /// postgres image's /docker-entrypoint-initdb.d, passwords from .env); each service connects with
    /// the application role only; its migrations run before it, as the owner, in a one-shot service of
    /// the same image that it waits for.
    /// </summary>
    [Fact]
    public void Each_database_has_an_owner_and_an_application_role_and_migrations_run_first_as_the_owner()
    {
        foreach (var (name, database, server, migrate) in ServiceDatabases)
        {
            var key = server.ToUpperInvariant().Replace('-', '_');
            var db = Service(server);
            var mount = Assert.Single(Strings(db["volumes"]), m => m.EndsWith(":/docker-entrypoint-initdb.d/10-shop-roles.sh:ro", StringComparison.Ordinal));
            var script = File.ReadAllText(Path.Combine(output.ComposeDirectory, mount.Split(':')[0]));
            Assert.Contains($"--dbname '{database}'", script);
            Assert.Contains($"-v owner='{database}_owner' -v app='{database}_app'", script);
            Assert.Contains("CREATE ROLE %I", script);
            Assert.Contains("ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I", script);
            Assert.Equal($"${{{key}_OWNER_PASSWORD:?{key}_OWNER_PASSWORD is not set in .env}}", Environment(db)["SHOP_OWNER_PASSWORD"]);
            Assert.Equal($"${{{key}_APP_PASSWORD:?{key}_APP_PASSWORD is not set in .env}}", Environment(db)["SHOP_APP_PASSWORD"]);

            // The service: the application role, and no other database credential at all.
            var service = Environment(Service(name));
            Assert.Equal($"Host={server};Port=5432;Username={database}_app;Password='${{{key}_APP_PASSWORD:?{key}_APP_PASSWORD is not set in .env}}';Database={database}",
                service[$"ConnectionStrings__{database}"]);
            Assert.DoesNotContain(service.Values, v => v.Contains($"{key}_OWNER_PASSWORD", StringComparison.Ordinal) || v.Contains($"{{{key}_PASSWORD", StringComparison.Ordinal));

            // The migration step: the same image, --migrate, only the owner's connection string; after the database, before the service.
            var step = Service(migrate);
            Assert.Equal(Service(name)["image"], step["image"]);
            Assert.Equal(["--migrate"], Strings(step["command"]));
            Assert.Equal(
                new Dictionary<string, string> { [$"ConnectionStrings__{database}-migrations"] = $"Host={server};Port=5432;Username={database}_owner;Password='${{{key}_OWNER_PASSWORD:?{key}_OWNER_PASSWORD is not set in .env}}';Database={database}" },
                Environment(step));
            Assert.Equal("service_healthy", ((Dictionary<object, object>)((Dictionary<object, object>)step["depends_on"])[server])["condition"]);
            Assert.Equal("service_completed_successfully", ((Dictionary<object, object>)((Dictionary<object, object>)Service(name)["depends_on"])[migrate])["condition"]);
            Assert.False(step.ContainsKey("healthcheck") || step.ContainsKey("ports") || step.ContainsKey("restart"));

            Assert.False(string.IsNullOrEmpty(_env[$"{key}_OWNER_PASSWORD"]));
            Assert.False(string.IsNullOrEmpty(_env[$"{key}_APP_PASSWORD"]));
        }
        // No file of the output but .env holds a secret.
        var secrets = SecretValues();
        foreach (var file in Directory.GetFiles(output.ComposeDirectory, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != ".env"))
        {
            var text = File.ReadAllText(file);
            Assert.All(secrets, s => Assert.False(text.Contains(s, StringComparison.Ordinal), $"{file} holds a secret value"));
        }
    }

    /// <summary>
    /// Security stamps and revoked sessions live in Redis: a crash must not bring back a snapshot up to a minute
    /// old (<c>--save 60 1</c> alone), in which a revoked token is valid again, and a full Redis must not evict them.
    /// So every write goes to the append-only file (fsync every second, Redis' default), and memory is capped with
    /// noeviction (Redis' default policy): a full Redis refuses writes rather than forgetting revocations.
    /// </summary>
    [Fact]
    public void Redis_logs_every_write_and_caps_its_memory_without_evicting()
    {
        var command = Strings(Service("redis")["command"]);
        Assert.Equal("-c", command[0]);
        Assert.StartsWith("exec redis-server ", command[1]); // the options go into the line ShopInfrastructure rewrites
        var options = RedisServerOptions(command[1]);
        Assert.Equal("yes", options.GetValueOrDefault("--appendonly"));
        Assert.Equal("everysec", options.GetValueOrDefault("--appendfsync", "everysec"));
        Assert.Equal("noeviction", options.GetValueOrDefault("--maxmemory-policy", "noeviction"));
        Assert.True(options.TryGetValue("--maxmemory", out var maxMemory) && RedisBytes(maxMemory) > 0, $"Redis has no --maxmemory: {command[1]}");
        Assert.Equal("60 1", options.GetValueOrDefault("--save")); // snapshots stay: a quick restart reads the latest
    }

    /// <summary><c>exec redis-server --a x --b y z</c> → {--a: x, --b: "y z"}.</summary>
    public static Dictionary<string, string> RedisServerOptions(string commandLine)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        string? option = null;
        foreach (var word in commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(w => w != "redis-server").Skip(1))
        {
            if (word.StartsWith("--", StringComparison.Ordinal))
            {
                options[option = word] = "";
            }
            else if (option is not null)
            {
                options[option] = options[option].Length == 0 ? word : options[option] + " " + word;
            }
        }
        return options;
    }

    /// <summary>A Redis memory size in bytes: <c>kb</c>/<c>mb</c>/<c>gb</c> count in 1024s, <c>k</c>/<c>m</c>/<c>g</c> in 1000s.</summary>
    public static long RedisBytes(string size)
    {
        var match = Regex.Match(size.ToLowerInvariant(), "^([0-9]+)(b|k|kb|m|mb|g|gb)?$");
        Assert.True(match.Success, $"not a Redis memory size: {size}");
        long factor = match.Groups[2].Value switch
        {
            "k" => 1000, "kb" => 1024, "m" => 1_000_000, "mb" => 1024 * 1024, "g" => 1_000_000_000, "gb" => 1024L * 1024 * 1024, _ => 1,
        };
        return long.Parse(match.Groups[1].Value) * factor;
    }

    /// <summary>
    /// A stopping .NET service finishes the requests and webhook attempts under way within its host's shutdown
    /// timeout (30 s, .NET's default); Docker kills it after <c>stop_grace_period</c>, 10 s unless set.
    /// </summary>
    [Fact]
    public void The_services_get_the_time_their_shutdown_takes_before_docker_kills_them()
    {
        foreach (var name in new[] { "gateway", "users", "orders", "inventory" })
        {
            var grace = Service(name).GetValueOrDefault("stop_grace_period") as string;
            Assert.True(grace is not null && int.Parse(grace.TrimEnd('s')) >= 30, $"{name}: stop_grace_period {grace ?? "unset (Docker's 10 s)"} is shorter than .NET's 30 s shutdown");
        }
    }

    /// <summary>
    /// Docker keeps a container's output in json-file logs that it never rotates unless told (Docker's documentation:
    /// "can cause a significant amount of disk space to be used ... which can lead to disk space exhaustion"), on the
    /// disk that holds the databases' volumes; kubelet rotates a pod's logs by itself (10 MiB, five files). So every
    /// compose container's logs are capped the same way, still in json-file, which <c>docker logs</c> reads.
    /// </summary>
    [Fact]
    public void Every_containers_logs_are_rotated_before_they_fill_the_hosts_disk()
    {
        foreach (var (name, value) in Services)
        {
            var service = (Dictionary<object, object>)value;
            var logging = service.GetValueOrDefault("logging") as Dictionary<object, object>;
            Assert.True(logging is not null, $"{name}: no logging section, so Docker keeps its json-file log without a size limit");
            Assert.Equal("json-file", logging.GetValueOrDefault("driver"));
            var options = (Dictionary<object, object>)logging["options"];
            Assert.True(DockerBytes(options.GetValueOrDefault("max-size") as string) is > 0 and <= 10 * 1024 * 1024, $"{name}: max-size {options.GetValueOrDefault("max-size")}");
            Assert.True(int.TryParse(options.GetValueOrDefault("max-file") as string, out var files) && files is > 1 and <= 5, $"{name}: max-file {options.GetValueOrDefault("max-file")}");
        }
    }

    /// <summary>
    /// Each container gets its Kubernetes pod's hardening, as far as compose can say it: a read-only root
    /// filesystem with a tmpfs wherever the pod has an emptyDir (data volumes stay volumes), no capabilities, no
    /// privilege gained through setuid binaries, the pod's numeric user (the postgres and redis images would
    /// otherwise start as root, whose chown and user switch need capabilities) and the pod's memory limit.
    /// </summary>
    [Fact]
    public void Containers_are_hardened_like_their_kubernetes_pods()
    {
        foreach (var (name, service, pod, container) in WithKubernetesContainers())
        {
            Assert.True(service.GetValueOrDefault("read_only") as string == "true", $"{name}: read_only is {service.GetValueOrDefault("read_only") ?? "unset"}");
            Assert.Equal(["ALL"], Strings(service.GetValueOrDefault("cap_drop")));
            Assert.Equal(["no-new-privileges:true"], Strings(service.GetValueOrDefault("security_opt")));
            Assert.Equal($"{pod.SecurityContext.RunAsUser}:{pod.SecurityContext.RunAsGroup}", service.GetValueOrDefault("user"));
            var scratch = container.VolumeMounts.Where(m => pod.Volumes.Any(v => v.Name == m.Name && v.EmptyDir is not null)).Select(m => m.MountPath);
            Assert.Equal(scratch.Order(), Strings(service.GetValueOrDefault("tmpfs")).Order());
            Assert.Equal(container.Resources.Limits["memory"].ToInt64(), DockerBytes(service.GetValueOrDefault("mem_limit") as string));
        }
    }

    /// <summary>
    /// <c>.env</c> only feeds compose's interpolation (no service reads it whole with <c>env_file</c>), so a container
    /// holds exactly the secrets its own entries name, and <c>docker compose up -d</c> recreates only the containers
    /// whose values changed: the same secrets as its Kubernetes container reads from the parameters' own Secrets.
    /// </summary>
    [Fact]
    public void Each_container_holds_only_the_secrets_its_kubernetes_container_reads()
    {
        var secretKeys = _manifest.Parameters.Where(p => p.Secret).Select(p => AppHostManifest.Key(p.Name)).SelectMany(k => (string[])[k, k + "_URI"]).ToHashSet();
        foreach (var (name, service, _, container) in WithKubernetesContainers())
        {
            Assert.False(service.ContainsKey("env_file"), $"{name} reads an env_file whole");
            var values = Environment(service).Values.Concat(Strings(service.GetValueOrDefault("command")));
            var named = values.SelectMany(v => VariableReference().Matches(v).Select(m => m.Groups[1].Value)).Where(secretKeys.Contains).ToHashSet();
            var read = (container.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef?.Key).OfType<string>().ToHashSet();
            Assert.True(read.SetEquals(named), $"{name} names {string.Join(", ", named.Order())}; its Kubernetes container reads {string.Join(", ", read.Order())}");
        }
        Assert.Contains("ORDERS_DB_APP_PASSWORD", Environment(Service("orders")).Values.Single(v => v.Contains("Username=ordersdb_app", StringComparison.Ordinal)));
    }

    /// <summary>
    /// Each compose service with its pod and container in the Kubernetes output (rendered): a migration step is its
    /// service's init container of that name.
    /// </summary>
    private IEnumerable<(string Name, Dictionary<object, object> Service, V1PodSpec Pod, V1Container Container)> WithKubernetesContainers()
    {
        var pods = KubernetesYaml.LoadAllFromString(output.Rendered(output.KubernetesDirectory), strict: true)
            .Select(o => o switch { V1Deployment d => d.Spec.Template, V1StatefulSet s => s.Spec.Template, _ => null })
            .OfType<V1PodTemplateSpec>()
            .ToDictionary(t => t.Metadata.Labels[KubernetesWriter.NameLabel], t => t.Spec);
        foreach (var (name, service) in Services.Select(kv => ((string)kv.Key, (Dictionary<object, object>)kv.Value)))
        {
            var step = ServiceDatabases.FirstOrDefault(d => d.Migrate == name).Service;
            var pod = pods[step ?? name];
            yield return (name, service, pod, step is null ? pod.Containers[0] : pod.InitContainers.Single(c => c.Name == "migrate"));
        }
    }

    /// <summary>A Docker memory size in bytes: <c>k</c>/<c>m</c>/<c>g</c> count in 1024s.</summary>
    private static long DockerBytes(string? size)
    {
        var match = Regex.Match(size ?? "", "^([0-9]+)([bkmg]?)$");
        Assert.True(match.Success, $"not a Docker memory size: '{size}'");
        return long.Parse(match.Groups[1].Value) << match.Groups[2].Value switch { "k" => 10, "m" => 20, "g" => 30, _ => 0 };
    }

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)(?::[-?][^}]*)?\}")]
    private static partial Regex VariableReference();

    // http://users:8080, redis://:pw@redis:6379, Host=users-db;Port=5432, redis:6379,password=
    [GeneratedRegex(@"(?:://(?:[^@/\s]*@)?(?<host>[a-z][a-z0-9-]*):(?<port>\d+))|(?:Host=(?<host>[a-z][a-z0-9-]*);Port=(?<port>\d+))|(?:^(?<host>[a-z][a-z0-9-]*):(?<port>\d+),)")]
    private static partial Regex Address();
}
