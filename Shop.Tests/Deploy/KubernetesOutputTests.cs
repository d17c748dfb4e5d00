using Xunit;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace Shop.Tests.Deploy;

[Collection(PublishCollection.Name)]
public sealed partial class KubernetesOutputTests(PublishOutput output)
{
    private readonly AppHostManifest _manifest = AppHostManifest.Load(output.ManifestPath);

    private string K8s(string file) => Path.Combine(output.KubernetesDirectory, file);

    private List<IKubernetesObject>? _objects;

    /// <summary>
    /// Every manifest file, deserialized into the KubernetesClient model types (unknown kinds fail). Read once per
    /// test (xUnit makes an instance per test), as the workload and environment lookups each need them all.
    /// </summary>
    private List<IKubernetesObject> Objects() => _objects ??= ObjectsIn(output.KubernetesDirectory);

    private static List<IKubernetesObject> ObjectsIn(string directory) =>
        Directory.GetFiles(directory, "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f)))
            .Cast<IKubernetesObject>()
            .Concat(GeneratedConfigMaps(directory))
            .ToList();

    /// <summary>
    /// The ConfigMaps the kustomization generates from env files, under the names the manifests refer to them by
    /// (kustomize adds a hash of the content to the name and to every reference; KubernetesValidationTests renders it).
    /// </summary>
    private static IEnumerable<V1ConfigMap> GeneratedConfigMaps(string directory)
    {
        var ns = (string)PublishOutput.LoadMap(Path.Combine(directory, "kustomization.yaml"))["namespace"];
        return Generated(directory, "configMapGenerator").Select(g => new V1ConfigMap { Metadata = new V1ObjectMeta { Name = g.Name, NamespaceProperty = ns }, Data = g.Data });
    }

    /// <summary>Each Secret the kustomization generates: its name (before kustomize's hash), and its keys and values from its files.</summary>
    private Dictionary<string, Dictionary<string, string>> GeneratedSecrets() =>
        Generated(output.KubernetesDirectory, "secretGenerator").ToDictionary(g => g.Name, g => g.Data);

    private static IEnumerable<(string Name, Dictionary<string, string> Data)> Generated(string directory, string generator) =>
        ((List<object>)PublishOutput.LoadMap(Path.Combine(directory, "kustomization.yaml"))[generator])
            .Cast<Dictionary<object, object>>()
            .Select(g => ((string)g["name"], ((List<object>)g["envs"]).Cast<string>().SelectMany(f => PublishOutput.LoadEnvFile(Path.Combine(directory, f))).ToDictionary()));

    private IEnumerable<(string Name, V1PodTemplateSpec Template, V1LabelSelector Selector)> Workloads() => Workloads(Objects());

    private static IEnumerable<(string Name, V1PodTemplateSpec Template, V1LabelSelector Selector)> Workloads(List<IKubernetesObject> objects) =>
        objects.Select(o => o switch
        {
            V1Deployment d => (d.Metadata.Name, d.Spec.Template, d.Spec.Selector),
            V1StatefulSet s => (s.Metadata.Name, s.Spec.Template, s.Spec.Selector),
            _ => default,
        }).Where(w => w.Name is not null);

    [Fact]
    public void Every_AppHost_resource_has_a_workload_and_a_service()
    {
        var objects = Objects();
        var workloads = Workloads().Select(w => w.Name).ToHashSet();
        Assert.Equal(_manifest.ComputeResources.Order(), workloads.Order());
        Assert.Superset(AppHostManifest.SpecComponents.ToHashSet(), workloads);
        var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
        Assert.Equal(workloads.Order(), services.Keys.Order());
        Assert.Single(objects.OfType<V1Namespace>(), n => n.Metadata.Name == "shop");
        Assert.All(objects.Where(o => o is not V1Namespace), o => Assert.Equal("shop", ((IMetadata<V1ObjectMeta>)o).Metadata.NamespaceProperty));
    }

    /// <summary>
    /// The highest peak RSS of each service in the benchmark's full runs from 2026-12-01 03:47 to 2026-12-05 09:22 UTC
    /// (docs/performance.md, "Peak RSS" of each run; the runs before had Inventory at 345–356 MiB before fixes since made).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> MeasuredPeakMiB = new Dictionary<string, int>
    {
        ["gateway"] = 172,
        ["users"] = 202,
        ["orders"] = 285,
        ["inventory"] = 240,
    };

    [Fact]
    public void Stateless_services_are_deployments_with_probes_and_resources()
    {
        var deployments = Objects().OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        Assert.Equal(["gateway", "inventory", "orders", "users", "web"], deployments.Keys.Order());
        foreach (var name in (string[])["gateway", "inventory", "orders", "users"])
        {
            var pod = deployments[name].Spec.Template.Spec;
            var container = Assert.Single(pod.Containers);
            Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
            Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
            Assert.Equal("8080", container.ReadinessProbe.HttpGet.Port.Value);
            Assert.Equal(8080, Assert.Single(container.Ports).ContainerPort);
            Assert.Equal($"shop/{name}:latest", container.Image);
            Assert.True(container.SecurityContext.RunAsNonRoot);
            Assert.NotNull(container.Resources.Requests["cpu"]);

            // The scheduler places a pod by its request: below the service's measured peak, a node can be
            // filled with pods that together need more than it has. The limit leaves room above the peak.
            var request = container.Resources.Requests["memory"].ToInt64();
            var limit = container.Resources.Limits["memory"].ToInt64();
            Assert.True(request >= MeasuredPeakMiB[name] * MiB, $"{name}: memory request {request / MiB} MiB is below its measured peak of {MeasuredPeakMiB[name]} MiB");
            Assert.True(limit >= request * 3 / 2, $"{name}: memory limit {limit / MiB} MiB leaves too little above the request ({request / MiB} MiB)");
            // The migration step runs the same process, with the same memory.
            Assert.All((pod.InitContainers ?? []).Where(c => c.Name == "migrate"), m => Assert.Equal(request, m.Resources.Requests["memory"].ToInt64()));
        }
        // nginx.conf's own health endpoint, probed over HTTP (kubelet needs no tool in the image).
        var web = deployments["web"].Spec.Template.Spec.Containers[0];
        Assert.Equal(("/healthz", "8080"), (web.ReadinessProbe.HttpGet.Path, web.ReadinessProbe.HttpGet.Port.Value));

        // :latest names a different build over time: a node that has one cached would never pull the next,
        // so it is pulled on every start. An explicit tag is immutable and pulled once per node.
        foreach (var (directory, tag, policy) in (IEnumerable<(string, string, string)>)
            [(output.KubernetesDirectory, "latest", "Always"), (output.KubernetesOptionsDirectory, PublishOutput.ImageTag, "IfNotPresent")])
        {
            var objects = ObjectsIn(directory);
            foreach (var deployment in objects.OfType<V1Deployment>())
            {
                var pod = deployment.Spec.Template.Spec;
                Assert.All(pod.Containers.Concat(pod.InitContainers ?? []), c =>
                {
                    Assert.Equal($"shop/{deployment.Metadata.Name}:{tag}", c.Image);
                    Assert.True(c.ImagePullPolicy == policy, $"{deployment.Metadata.Name}/{c.Name}: imagePullPolicy {c.ImagePullPolicy} for tag {tag}, expected {policy}");
                });
            }
            // The databases' and Redis' images carry a version tag.
            Assert.All(objects.OfType<V1StatefulSet>(), s => Assert.Equal("IfNotPresent", s.Spec.Template.Spec.Containers[0].ImagePullPolicy));
        }
    }

    private const long MiB = 1024 * 1024;

    /// <summary>
    /// Security stamps and revoked sessions live in Redis. Snapshots alone (<c>--save 60 1</c>) lose up to a
    /// minute of writes in a crash, and a revoked token is valid again; an LRU policy would evict revocations
    /// under memory pressure. So Redis logs every write (appendfsync everysec, Redis' default) and caps its
    /// memory below the container's limit with noeviction: a full Redis refuses writes rather than forgetting.
    /// </summary>
    [Fact]
    public void Redis_logs_every_write_and_keeps_its_memory_below_the_containers_limit()
    {
        var redis = Objects().OfType<V1StatefulSet>().Single(s => s.Metadata.Name == "redis").Spec.Template.Spec.Containers.Single();
        var script = Assert.Single(redis.Args, a => a.StartsWith("exec redis-server ", StringComparison.Ordinal));
        var options = ComposeOutputTests.RedisServerOptions(script);
        Assert.Equal("yes", options.GetValueOrDefault("--appendonly"));
        Assert.Equal("everysec", options.GetValueOrDefault("--appendfsync", "everysec"));
        Assert.Equal("noeviction", options.GetValueOrDefault("--maxmemory-policy", "noeviction"));
        Assert.True(options.TryGetValue("--maxmemory", out var maxMemory), $"Redis has no --maxmemory: {script}");
        var cap = ComposeOutputTests.RedisBytes(maxMemory);
        var limit = redis.Resources.Limits["memory"].ToInt64();
        // Rewriting the append-only file forks Redis: its copy-on-write pages and the clients' buffers come on top of the data.
        Assert.True(cap > 0 && cap <= limit * 3 / 4, $"--maxmemory {maxMemory} is not below three quarters of the container's {limit / MiB} MiB limit");
    }

    [Fact]
    public void Databases_and_redis_are_statefulsets_with_claims_mounted()
    {
        var sets = Objects().OfType<V1StatefulSet>().ToDictionary(s => s.Metadata.Name);
        Assert.Equal(["inventory-db", "orders-db", "redis", "users-db"], sets.Keys.Order());
        var services = Objects().OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
        foreach (var set in sets.Values)
        {
            var claim = Assert.Single(set.Spec.VolumeClaimTemplates);
            var container = Assert.Single(set.Spec.Template.Spec.Containers);
            Assert.Single(container.VolumeMounts, m => m.Name == claim.Metadata.Name); // besides emptyDirs (KubernetesHardeningTests)
            Assert.Equal("ReadWriteOnce", Assert.Single(claim.Spec.AccessModes));
            Assert.NotNull(claim.Spec.Resources.Requests["storage"]);
            Assert.Equal(1, set.Spec.Replicas);
            Assert.Equal(set.Metadata.Name, set.Spec.ServiceName);
            Assert.Equal("None", services[set.Metadata.Name].Spec.ClusterIP);
            Assert.NotNull(container.ReadinessProbe.Exec);
        }
        Assert.Equal("pg_isready", sets["users-db"].Spec.Template.Spec.Containers[0].ReadinessProbe.Exec.Command[0]);
        Assert.Equal("docker.io/library/postgres:15-alpine", sets["users-db"].Spec.Template.Spec.Containers[0].Image);
        Assert.Equal("docker.io/library/redis:7-alpine", sets["redis"].Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public void Services_select_their_workloads_and_expose_the_container_ports()
    {
        var workloads = Workloads().ToDictionary(w => w.Name);
        foreach (var service in Objects().OfType<V1Service>())
        {
            var workload = workloads[service.Metadata.Name];
            Assert.All(service.Spec.Selector, kv => Assert.Equal(kv.Value, workload.Template.Metadata.Labels[kv.Key]));
            Assert.All(workload.Selector.MatchLabels, kv => Assert.Equal(kv.Value, workload.Template.Metadata.Labels[kv.Key]));
            var containerPorts = workload.Template.Spec.Containers.SelectMany(c => c.Ports).Select(p => p.ContainerPort).ToHashSet();
            Assert.All(service.Spec.Ports, p => Assert.Contains(int.Parse(p.TargetPort.Value), containerPorts));
        }
        // Nothing is exposed by a Service of its own: the gateway is reached through the Ingress.
        Assert.All(Objects().OfType<V1Service>(), s => Assert.Equal("ClusterIP", s.Spec.Type));
    }

    /// <summary>
    /// Behind the Ingress the controller names the client in X-Forwarded-For: the gateway believes it from the
    /// pod network's private ranges only, and nothing believes it from anyone (Aspire's own switch).
    /// </summary>
    [Fact]
    public void The_gateway_believes_the_ingress_controllers_client_address_and_nobody_believes_anyones()
    {
        foreach (var name in new[] { "gateway", "users", "orders", "inventory" })
        {
            var environment = ServiceEnvironment(name);
            Assert.DoesNotContain("ASPNETCORE_FORWARDEDHEADERS_ENABLED", environment.Keys);
            Assert.Equal(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"],
                Enumerable.Range(0, 4).Select(i => environment.GetValueOrDefault($"ForwardedHeaders__KnownNetworks__{i}")));
        }
    }

    [Fact]
    public void Services_sample_traces_parent_based_at_the_trace_sample_ratio()
    {
        foreach (var name in new[] { "gateway", "users", "orders", "inventory" })
        {
            var environment = ServiceEnvironment(name);
            Assert.Equal("parentbased_traceidratio", environment.GetValueOrDefault("OTEL_TRACES_SAMPLER"));
            Assert.Equal("0.1", environment.GetValueOrDefault("OTEL_TRACES_SAMPLER_ARG"));
        }
    }

    /// <summary>
    /// The autoscaler may run <c>maxReplicas</c> of a service, and a rollout at that size starts the Deployment's
    /// surge of new pods before the old ones go (Kubernetes' default maxSurge: 25 %, rounded up), while the batch of
    /// old pods it replaced still holds its pools until they have stopped (the controller does not count stopping
    /// pods, and with maxUnavailable above 0 it would stop old pods before their replacements too); each holds up to
    /// <c>Database__MaxPoolSize</c> connections (+1: Orders' listening session). Its PostgreSQL server must accept
    /// them all beside the 3 connections it keeps for superusers (<c>superuser_reserved_connections</c>), which the
    /// services' roles cannot use, with room left for the migration step and an operator.
    /// </summary>
    [Fact]
    public void Each_database_server_accepts_a_full_pool_from_every_replica_the_autoscaler_may_run() =>
        AssertServersAcceptEveryReplicasPool(Objects());

    /// <summary>
    /// What one PostgreSQL 15 backend of the Shop's kind holds privately, measured (2026-12-07, docs/deploy.md, Memory per
    /// service): 2.4 MiB after SQL modelled on Orders' placement, listing and polling, 3.6 MiB with 62 statements prepared
    /// (Npgsql prepares up to 64 per connection, <c>MaxAutoPrepare</c>); beside PostgreSQL's 128 MB shared_buffers.
    /// </summary>
    private const double MeasuredBackendMiB = 3.6, SharedBuffersMiB = 128;

    /// <summary>
    /// A server that accepts <c>max_connections</c> must also have the memory they take: at 215 of them PostgreSQL held
    /// 555 MiB (511 MiB of backends, 44 MiB of shared buffers touched), and in a 512 MiB cgroup the kernel killed the
    /// postmaster, ending every session of the service. The scheduler places the pod by its request, so that counts them.
    /// </summary>
    [Fact]
    public void Each_database_servers_memory_holds_a_backend_for_every_connection_it_accepts() =>
        AssertServersHoldTheirConnections(Objects());

    private static void AssertServersHoldTheirConnections(List<IKubernetesObject> objects)
    {
        foreach (var server in objects.OfType<V1StatefulSet>().Where(s => s.Metadata.Name.EndsWith("-db", StringComparison.Ordinal)))
        {
            var container = server.Spec.Template.Spec.Containers.Single();
            var connections = MaxConnections(container);
            var needed = (long)((SharedBuffersMiB + connections * MeasuredBackendMiB) * MiB);
            var request = container.Resources.Requests["memory"].ToInt64();
            var limit = container.Resources.Limits["memory"].ToInt64();
            Assert.True(request >= needed,
                $"{server.Metadata.Name}: memory request {request / MiB} MiB is below {needed / MiB} MiB, what {connections} connections ({MeasuredBackendMiB} MiB each) and {SharedBuffersMiB} MiB of shared buffers take");
            Assert.True(limit > request, $"{server.Metadata.Name}: memory limit {limit / MiB} MiB leaves nothing above the request ({request / MiB} MiB) for sorts and autovacuum");
        }
    }

    /// <summary>A PostgreSQL container's <c>-c max_connections=</c>, or PostgreSQL's default.</summary>
    private static int MaxConnections(V1Container server) => int.Parse(ServerSetting(server, "max_connections") ?? "100");

    /// <summary>A PostgreSQL container's <c>-c name=value</c> value, or null when it sets none.</summary>
    private static string? ServerSetting(V1Container server, string name)
    {
        var args = server.Args ?? [];
        var setting = args.Select((a, i) => (a, i)).Where(x => x.a == "-c" && x.i + 1 < args.Count && args[x.i + 1].StartsWith(name + "=", StringComparison.Ordinal))
            .Select(x => args[x.i + 1][(name.Length + 1)..]).ToList();
        return setting.Count == 1 ? setting[0] : null;
    }

    /// <summary>
    /// PostgreSQL keeps write-ahead log in <c>PGDATA/pg_wal</c>, on the data volume, up to <c>max_wal_size</c> (1 GB by
    /// default) after a burst of writes ("a soft limit; WAL size can exceed max_wal_size ... such as heavy load"). On
    /// the deployment's 1Gi claim that alone fills the volume, and a server whose disk is full stops (PANIC). The log
    /// may take a quarter of the volume; the tables and indexes the rest.
    /// </summary>
    [Fact]
    public void Each_database_servers_write_ahead_log_leaves_its_volume_room_for_the_data()
    {
        foreach (var server in Objects().OfType<V1StatefulSet>().Where(s => s.Metadata.Name.EndsWith("-db", StringComparison.Ordinal)))
        {
            var volume = Assert.Single(server.Spec.VolumeClaimTemplates).Spec.Resources.Requests["storage"].ToInt64();
            var setting = ServerSetting(server.Spec.Template.Spec.Containers.Single(), "max_wal_size") ?? "1GB";
            var match = Regex.Match(setting, "^([0-9]+)(MB|GB)$");
            Assert.True(match.Success, $"{server.Metadata.Name}: max_wal_size={setting} is not in MB or GB");
            var wal = long.Parse(match.Groups[1].Value) * (match.Groups[2].Value == "GB" ? 1024 : 1) * MiB;
            Assert.True(wal <= volume / 4, $"{server.Metadata.Name}: max_wal_size={setting} lets the write-ahead log take more than a quarter of its {volume / MiB} MiB volume");
        }
    }

    /// <summary>
    /// A minimum above the maximum raises the autoscaler's maximum to it (HorizontalPodAutoscalerBuilder): the
    /// servers must count those replicas too.
    /// </summary>
    [Fact]
    public async Task Each_database_server_accepts_every_replicas_pool_when_the_minimum_is_above_the_maximum()
    {
        var directory = Path.Combine(output.Root, "k8s-min-above-max");
        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-k8s", "--output-path", directory,
            "--Shop:Publish:MinReplicas=12", "--Shop:Publish:MaxReplicas=10");

        var objects = ObjectsIn(directory);
        Assert.All(objects.OfType<V2HorizontalPodAutoscaler>(), h => Assert.Equal((12, 12), (h.Spec.MinReplicas, h.Spec.MaxReplicas)));
        AssertServersAcceptEveryReplicasPool(objects);
        AssertServersHoldTheirConnections(objects);
    }

    private static void AssertServersAcceptEveryReplicasPool(List<IKubernetesObject> objects)
    {
        const int SuperuserReserved = 3;
        var autoscalers = objects.OfType<V2HorizontalPodAutoscaler>().ToDictionary(h => h.Metadata.Name);
        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        var servers = objects.OfType<V1StatefulSet>().ToDictionary(s => s.Metadata.Name, s => s.Spec.Template.Spec.Containers.Single());
        foreach (var (service, server) in new[] { ("users", "users-db"), ("orders", "orders-db"), ("inventory", "inventory-db") })
        {
            Assert.True(ServiceEnvironment(objects, service).TryGetValue("Database__MaxPoolSize", out var pool), $"{service} is not told its pool size (Database__MaxPoolSize).");
            var maxConnections = MaxConnections(servers[server]);
            var maxReplicas = autoscalers[service].Spec.MaxReplicas;
            var strategy = deployments[service].Spec.Strategy;
            Assert.Equal("0", strategy?.RollingUpdate?.MaxUnavailable?.Value);
            var surge = Surge(strategy, maxReplicas);
            var needed = (maxReplicas + 2 * surge) * (int.Parse(pool) + 1) + SuperuserReserved + 5;
            Assert.True(maxConnections >= needed,
                $"{server} accepts {maxConnections} connections; {maxReplicas} {service} replicas, a rollout's surge of {surge} and as many old pods stopping, with pools of {pool} (+1), "
                + $"{SuperuserReserved} reserved for superusers and 5 spare need {needed}.");
        }

        // The pods a rolling update adds above the replica count (Kubernetes rounds a percentage up).
        static int Surge(V1DeploymentStrategy? strategy, int replicas)
        {
            if (strategy?.Type == "Recreate")
            {
                return 0;
            }
            var maxSurge = strategy?.RollingUpdate?.MaxSurge?.Value ?? "25%";
            return maxSurge.EndsWith('%') ? (int)Math.Ceiling(replicas * int.Parse(maxSurge.TrimEnd('%')) / 100.0) : int.Parse(maxSurge);
        }
    }

    /// <summary>A service container's environment as the pod gets it: its config maps, then its own variables over them.</summary>
    private Dictionary<string, string> ServiceEnvironment(string service) => ServiceEnvironment(Objects(), service);

    private static Dictionary<string, string> ServiceEnvironment(List<IKubernetesObject> objects, string service)
    {
        var configMaps = objects.OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name, c => c.Data ?? new Dictionary<string, string>());
        var container = Workloads(objects).Single(w => w.Name == service).Template.Spec.Containers.Single();
        var environment = (container.EnvFrom ?? []).Where(e => e.ConfigMapRef is not null)
            .SelectMany(e => configMaps[e.ConfigMapRef.Name]).ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var env in container.Env ?? [])
        {
            environment[env.Name] = env.ValueFrom?.ConfigMapKeyRef is { } mapRef ? configMaps[mapRef.Name][mapRef.Key] : env.Value;
        }
        return environment;
    }

    [Fact]
    public void Every_environment_reference_resolves_to_a_secret_configmap_or_earlier_variable()
    {
        var secrets = GeneratedSecrets();
        var configMaps = Objects().OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name, c => c.Data ?? new Dictionary<string, string>());
        var services = Objects().OfType<V1Service>().ToDictionary(s => s.Metadata.Name, s => s.Spec.Ports.Select(p => p.Port).ToHashSet());
        var addresses = 0;
        foreach (var (name, template, _) in Workloads())
        {
            foreach (var container in template.Spec.Containers.Concat(template.Spec.InitContainers ?? []))
            {
                var values = new List<string>();
                foreach (var source in container.EnvFrom ?? [])
                {
                    Assert.True(configMaps.TryGetValue(source.ConfigMapRef.Name, out var data), $"{name}: configMap {source.ConfigMapRef.Name} missing");
                    values.AddRange(data.Values);
                }
                var defined = new HashSet<string>();
                foreach (var env in container.Env ?? [])
                {
                    if (env.ValueFrom?.SecretKeyRef is { } secretRef)
                    {
                        Assert.True(secrets.TryGetValue(secretRef.Name, out var secret) && secret.ContainsKey(secretRef.Key),
                            $"{name}: secret key {secretRef.Key} not in a generated Secret {secretRef.Name}");
                    }
                    else if (env.ValueFrom?.ConfigMapKeyRef is { } mapRef)
                    {
                        Assert.True(configMaps[mapRef.Name].ContainsKey(mapRef.Key), $"{name}: {mapRef.Name}/{mapRef.Key} missing");
                    }
                    else
                    {
                        foreach (Match reference in DependentVariable().Matches(env.Value))
                        {
                            Assert.Contains(reference.Groups[1].Value, defined);
                        }
                        values.Add(env.Value);
                    }
                    defined.Add(env.Name);
                }
                foreach (Match match in Address().Matches(string.Join('\n', values)))
                {
                    var host = match.Groups["host"].Value;
                    Assert.True(services.ContainsKey(host), $"{name} refers to unknown service {host}");
                    Assert.Contains(int.Parse(match.Groups["port"].Value), services[host]);
                    addresses++;
                }
            }
        }
        Assert.True(addresses >= 20, $"only {addresses} in-cluster addresses found");
    }

    [Fact]
    public void Secrets_stay_in_the_git_ignored_secrets_files()
    {
        var secrets = PublishOutput.SecretValues(output.KubernetesDirectory);
        foreach (var (parameter, secret) in _manifest.Parameters)
        {
            var key = AppHostManifest.Key(parameter);
            if (secret)
            {
                Assert.False(_manifest.OptionalParameters.Contains(parameter) ? !secrets.ContainsKey(key) : string.IsNullOrEmpty(secrets.GetValueOrDefault(key)), $"{key} missing from secrets/");
            }
            else
            {
                Assert.True(Objects().OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "shop-parameters").Data.ContainsKey(key));
            }
        }
        var manifests = string.Join('\n', Directory.GetFiles(output.KubernetesDirectory, "*.yaml").Select(File.ReadAllText));
        Assert.All(secrets.Values.Where(v => v.Length >= 8), v => Assert.DoesNotContain(v, manifests));
        Assert.Empty(Objects().OfType<V1Secret>());
        Assert.Contains("secrets/", File.ReadAllLines(K8s(".gitignore")));
        var example = PublishOutput.LoadEnvFile(K8s("secrets.env.example"));
        Assert.Equal(secrets.Keys.Order(), example.Keys.Order());
        Assert.All(example.Values, v => Assert.Equal("", v));
    }

    /// <summary>
    /// docs/deploy.md: a non-secret parameter is edited in the output, and publishing again keeps the value
    /// already there (as it keeps the secrets'), rather than putting the default back. The ConfigMap it is in
    /// is generated by kustomize, its name a hash of its content: the edit renames it in every pod that reads
    /// it, so <c>kubectl apply -k</c> rolls them (a ConfigMap changed in place reaches no running process).
    /// </summary>
    [Fact]
    public async Task A_parameter_edited_in_the_output_survives_publishing_again_and_rolls_its_readers()
    {
        var directory = output.CopyOf(output.KubernetesDirectory);
        var parameters = Path.Combine(directory, "parameters.env");
        var text = File.ReadAllText(parameters);
        Assert.Contains("TRACE_SAMPLE_RATIO=0.1\n", text);
        File.WriteAllText(parameters, text.Replace("TRACE_SAMPLE_RATIO=0.1\n", "TRACE_SAMPLE_RATIO=0.25\n"));

        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-k8s", "--output-path", directory);

        Assert.Contains("TRACE_SAMPLE_RATIO=0.25\n", File.ReadAllText(parameters));
        var before = ParametersReferences(output.Rendered(output.KubernetesDirectory));
        var after = ParametersReferences(output.Rendered(directory));
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.Contains("users", after.Keys);
        Assert.All(after, reader => Assert.NotEqual(before[reader.Key], reader.Value));

        // Each workload's name for the parameters ConfigMap in the rendered output.
        static Dictionary<string, string> ParametersReferences(string rendered) =>
            KubernetesYaml.LoadAllFromString(rendered).OfType<V1Deployment>()
                .Select(d => (d.Metadata.Name, Reference: d.Spec.Template.Spec.Containers.SelectMany(c => c.Env ?? [])
                    .Select(e => e.ValueFrom?.ConfigMapKeyRef?.Name).FirstOrDefault(n => n?.StartsWith("shop-parameters-", StringComparison.Ordinal) == true)))
                .Where(d => d.Reference is not null)
                .ToDictionary(d => d.Name, d => d.Reference!);
    }

    /// <summary>
    /// docs/deploy.md, rotating a password: publishing again with one new value (every other one read back from the
    /// output) renames only the Secrets that hold it, so <c>kubectl apply -k</c> rolls the workloads that read it
    /// (Orders' application role: the orders pods and their database server's, whose roles script reads it) and no other.
    /// </summary>
    [Fact]
    public async Task Rotating_one_password_rolls_only_the_workloads_that_read_it()
    {
        var directory = output.CopyOf(output.KubernetesDirectory);
        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-k8s", "--output-path", directory,
            $"--Parameters:orders-db-app-password={Guid.NewGuid():N}");

        var before = SecretReferences(output.Rendered(output.KubernetesDirectory));
        var after = SecretReferences(output.Rendered(directory));
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.Equal(["orders", "orders-db"], after.Where(w => !w.Value.SetEquals(before[w.Key])).Select(w => w.Key).Order());

        // Each workload's names of the Secrets its pod reads, in the rendered output (hash-named).
        static Dictionary<string, HashSet<string>> SecretReferences(string rendered) =>
            Workloads([.. KubernetesYaml.LoadAllFromString(rendered).Cast<IKubernetesObject>()])
                .ToDictionary(w => w.Name, w => PublishOutput.SecretNames(w.Template.Spec).ToHashSet());
    }

    /// <summary>
    /// docs/deploy.md, rotating the JWT signing key or a service key: the settings a rotation needs reach the pods
    /// from their own Secrets, generated from <c>secrets/&lt;parameter&gt;.env</c>, empty until the operator sets them
    /// there (kustomize keeps <c>KEY=</c> as an empty value); a value set there is what the pods get, and the next
    /// publish keeps it.
    /// </summary>
    [Fact]
    public async Task Key_rotation_settings_come_from_their_secrets_and_are_empty_until_set()
    {
        var directory = output.CopyOf(output.KubernetesDirectory);
        Assert.All(ComposeOutputTests.RotationSettings, s => Assert.Equal("", PodSetting(output.Rendered(directory), s.Service, s.Setting)));

        var file = Path.Combine(directory, "secrets", "jwt-previous-signing-key.env");
        Assert.Equal("JWT_PREVIOUS_SIGNING_KEY=\n", File.ReadAllText(file));
        File.WriteAllText(file, "JWT_PREVIOUS_SIGNING_KEY=old-key\n");
        File.WriteAllText(Path.Combine(directory, "secrets", "orders-service-key-accepted.env"), "ORDERS_SERVICE_KEY_ACCEPTED=new-key\n");
        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-k8s", "--output-path", directory);

        var rendered = PublishOutput.Kustomize(directory);
        Assert.True(rendered.ExitCode == 0, rendered.Error);
        Assert.Equal("old-key", PodSetting(rendered.Output, "users", "Jwt__PreviousSigningKey"));
        Assert.Equal("new-key", PodSetting(rendered.Output, "users", "ServiceAuth__Callers__orders__1"));
        Assert.Equal("new-key", PodSetting(rendered.Output, "inventory", "ServiceAuth__Callers__orders__1"));
        Assert.Equal("", PodSetting(rendered.Output, "users", "ServiceAuth__Callers__inventory__1"));

        // A setting of a Deployment's container in the rendered output, read from the Secret it names.
        static string PodSetting(string rendered, string deployment, string name)
        {
            var objects = KubernetesYaml.LoadAllFromString(rendered);
            var variable = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == deployment).Spec.Template.Spec.Containers.Single()
                .Env.SingleOrDefault(e => e.Name == name) ?? throw new Xunit.Sdk.XunitException($"{deployment} has no {name}");
            var reference = variable.ValueFrom?.SecretKeyRef ?? throw new Xunit.Sdk.XunitException($"{deployment}'s {name} is not from a Secret");
            var secret = objects.OfType<V1Secret>().Single(s => s.Metadata.Name == reference.Name);
            Assert.True(secret.Data?.ContainsKey(reference.Key) == true, $"{reference.Name} has no {reference.Key}");
            return PublishOutput.SecretText(secret.Data[reference.Key]);
        }
    }

    /// <summary>One Secret per secret parameter of the AppHost, named after it, from its own file in secrets/.</summary>
    [Fact]
    public void Kustomization_lists_every_manifest_and_generates_a_secret_per_secret_parameter()
    {
        var kustomization = PublishOutput.LoadMap(K8s("kustomization.yaml"));
        Assert.Equal("shop", kustomization["namespace"]);
        var resources = ((List<object>)kustomization["resources"]).Cast<string>().ToList();
        var files = Directory.GetFiles(output.KubernetesDirectory, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml");
        Assert.Equal(files.Order(), resources.Order());
        var generators = ((List<object>)kustomization["secretGenerator"]).Cast<Dictionary<object, object>>().ToList();
        Assert.Equal(_manifest.Parameters.Where(p => p.Secret).Select(p => p.Name).Order(), generators.Select(g => (string)g["name"]).Order());
        Assert.All(generators, g => Assert.Equal([$"secrets/{g["name"]}.env"], ((List<object>)g["envs"]).Cast<string>()));
        Assert.Equal(Directory.GetFiles(K8s("secrets")).Select(Path.GetFileName).Order(), generators.Select(g => $"{g["name"]}.env").Order());
    }

    /// <summary>
    /// Each database server creates the owner and application roles when its volume is initialised (the
    /// same script as compose, from a ConfigMap at /docker-entrypoint-initdb.d, passwords from the Secret);
    /// each service's container connects with the application role only; an init container of the same
    /// image runs the migrations as the owner before it.
    /// </summary>
    [Fact]
    public void Each_database_has_an_owner_and_an_application_role_and_migrations_run_first_as_the_owner()
    {
        var objects = Objects();
        var configMaps = objects.OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name);
        var sets = objects.OfType<V1StatefulSet>().ToDictionary(s => s.Metadata.Name);
        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        foreach (var (name, database, server, _) in ComposeOutputTests.ServiceDatabases)
        {
            var key = server.ToUpperInvariant().Replace('-', '_');
            var db = sets[server].Spec.Template.Spec;
            var mount = Assert.Single(db.Containers[0].VolumeMounts, m => m.MountPath == "/docker-entrypoint-initdb.d");
            Assert.True(mount.ReadOnlyProperty);
            var scripts = configMaps[Assert.Single(db.Volumes, v => v.Name == mount.Name).ConfigMap.Name].Data;
            var script = Assert.Single(scripts, kv => kv.Key == "10-shop-roles.sh").Value;
            Assert.Contains($"-v owner='{database}_owner' -v app='{database}_app'", script);
            Assert.Contains("CREATE ROLE %I", script);
            Assert.Equal(File.ReadAllText(Path.Combine(output.ComposeDirectory, server, "10-shop-roles.sh")), script);
            Assert.Equal($"{key}_OWNER_PASSWORD", db.Containers[0].Env.Single(e => e.Name == "SHOP_OWNER_PASSWORD").ValueFrom.SecretKeyRef.Key);
            Assert.Equal($"{key}_APP_PASSWORD", db.Containers[0].Env.Single(e => e.Name == "SHOP_APP_PASSWORD").ValueFrom.SecretKeyRef.Key);

            var pod = deployments[name].Spec.Template.Spec;
            var main = Assert.Single(pod.Containers);
            Assert.Equal($"Host={server};Port=5432;Username={database}_app;Password='$(PARAM_{key}_APP_PASSWORD)';Database={database}",
                main.Env.Single(e => e.Name == $"ConnectionStrings__{database}").Value);
            Assert.Equal([$"{key}_APP_PASSWORD"], SecretKeys(main).Where(k => k.StartsWith(key + "_", StringComparison.Ordinal)));
            Assert.DoesNotContain(main.Env, e => e.Name.EndsWith("-migrations", StringComparison.Ordinal));

            var migrate = pod.InitContainers.Last();
            Assert.Equal(("migrate", main.Image), (migrate.Name, migrate.Image));
            Assert.Equal(["--migrate"], migrate.Args);
            Assert.Null(migrate.Command); // the image's entrypoint: the service itself
            Assert.Equal($"Host={server};Port=5432;Username={database}_owner;Password='$(PARAM_{key}_OWNER_PASSWORD)';Database={database}",
                migrate.Env.Single(e => e.Name == $"ConnectionStrings__{database}-migrations").Value);
            Assert.Equal([$"{key}_OWNER_PASSWORD"], SecretKeys(migrate));
            Assert.Null(migrate.EnvFrom);
            // After the wait for its database.
            Assert.True(pod.InitContainers.ToList().FindIndex(c => c.Name == $"wait-for-{server}") is var wait && wait >= 0 && wait < pod.InitContainers.IndexOf(migrate));
        }

        static IEnumerable<string> SecretKeys(V1Container container) =>
            (container.Env ?? []).Where(e => e.ValueFrom?.SecretKeyRef is not null).Select(e => e.ValueFrom.SecretKeyRef.Key);
    }

    [GeneratedRegex(@"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex DependentVariable();

    [GeneratedRegex(@"(?:://(?:[^@/\s]*@)?(?<host>[a-z][a-z0-9-]*):(?<port>\d+))|(?:Host=(?<host>[a-z][a-z0-9-]*);Port=(?<port>\d+))|(?:^(?<host>[a-z][a-z0-9-]*):(?<port>\d+),)", RegexOptions.Multiline)]
    private static partial Regex Address();
}
