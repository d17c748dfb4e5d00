using System.Text;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Shop.Publishing;
using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// The production shape of the Kubernetes output, asserted per object on what <c>kubectl apply -k</c>
/// would send (<c>kubectl kustomize</c>): hardened pods, disruption budgets and autoscalers,
/// network policies, the TLS Ingress, probes and ordered start, and secrets.
/// </summary>
[Collection(PublishCollection.Name)]
public sealed class KubernetesHardeningTests(PublishOutput output)
{
    private static readonly string[] Stateless = ["gateway", "users", "orders", "inventory", "web"];
    private static readonly string[] Databases = ["users-db", "orders-db", "inventory-db"];

    private List<object> Objects(string? directory = null) =>
        KubernetesYaml.LoadAllFromString(output.Rendered(directory ?? output.KubernetesDirectory), strict: true);

    private List<(string Name, V1PodTemplateSpec Template)> Workloads() =>
        [.. Objects().Select(o => o switch
        {
            V1Deployment d => (d.Metadata.Name, d.Spec.Template),
            V1StatefulSet s => (s.Metadata.Name, s.Spec.Template),
            _ => default,
        }).Where(w => w.Name is not null)];

    private static IEnumerable<V1Container> AllContainers(V1PodSpec pod) => pod.Containers.Concat(pod.InitContainers ?? []);

    [Fact]
    public void Every_pod_and_container_is_hardened()
    {
        var workloads = Workloads();
        Assert.Equal(AppHostManifest.SpecComponents.Order(), workloads.Select(w => w.Name).Order());
        foreach (var (name, template) in workloads)
        {
            var pod = template.Spec;
            Assert.True(pod.AutomountServiceAccountToken == false, $"{name}: automountServiceAccountToken");
            Assert.True(pod.SecurityContext?.RunAsNonRoot == true, $"{name}: pod runAsNonRoot");
            Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile?.Type);
            Assert.True(pod.SecurityContext.RunAsUser > 0, $"{name}: pod runAsUser (numeric, non-root)");
            foreach (var container in AllContainers(pod))
            {
                var where = $"{name}/{container.Name}";
                var security = container.SecurityContext;
                Assert.True(security?.RunAsNonRoot == true, $"{where}: runAsNonRoot");
                Assert.True(security.ReadOnlyRootFilesystem == true, $"{where}: readOnlyRootFilesystem");
                Assert.True(security.AllowPrivilegeEscalation == false, $"{where}: allowPrivilegeEscalation");
                Assert.Equal(["ALL"], security.Capabilities?.Drop ?? []);
                Assert.Null(security.Capabilities?.Add);
                Assert.Equal("RuntimeDefault", security.SeccompProfile?.Type);
                Assert.Null(security.Privileged);
                foreach (var resource in (string[])["cpu", "memory"])
                {
                    Assert.True(container.Resources?.Requests?.ContainsKey(resource) == true, $"{where}: {resource} request");
                    Assert.True(container.Resources?.Limits?.ContainsKey(resource) == true, $"{where}: {resource} limit");
                }
            }
        }
        var ns = Assert.Single(Objects().OfType<V1Namespace>());
        // Pod Security Admission: the cluster itself refuses a pod that is not "restricted".
        Assert.Equal("restricted", ns.Metadata.Labels["pod-security.kubernetes.io/enforce"]);
    }

    /// <summary>The numeric users the images run as: Kubernetes can verify runAsNonRoot only against a number.</summary>
    [Fact]
    public void Pods_run_as_the_users_of_their_images()
    {
        var workloads = Workloads().ToDictionary(w => w.Name, w => w.Template.Spec);
        var app = long.Parse(ContainerImageBuilder.ContainerUser);
        foreach (var name in (string[])["gateway", "users", "orders", "inventory"])
        {
            Assert.Equal((app, app), (workloads[name].SecurityContext.RunAsUser, workloads[name].SecurityContext.RunAsGroup));
        }
        // nginx:*-alpine's nginx user (Shop.Web/Dockerfile: USER nginx, a name kubelet cannot check).
        Assert.Equal((101L, 101L), (workloads["web"].SecurityContext.RunAsUser, workloads["web"].SecurityContext.RunAsGroup));
        foreach (var name in Databases)
        {
            // postgres:*-alpine: uid/gid 70 (the Debian images use 999); fsGroup makes the volume theirs.
            Assert.EndsWith("-alpine", workloads[name].Containers[0].Image);
            Assert.Equal((70L, 70L, 70L), (workloads[name].SecurityContext.RunAsUser, workloads[name].SecurityContext.RunAsGroup, workloads[name].SecurityContext.FsGroup));
            Assert.Equal("OnRootMismatch", workloads[name].SecurityContext.FsGroupChangePolicy);
        }
        // redis:*-alpine: uid 999, gid 1000.
        Assert.EndsWith("-alpine", workloads["redis"].Containers[0].Image);
        Assert.Equal((999L, 1000L, 1000L), (workloads["redis"].SecurityContext.RunAsUser, workloads["redis"].SecurityContext.RunAsGroup, workloads["redis"].SecurityContext.FsGroup));
    }

    /// <summary>With a read-only root filesystem, every directory a process writes to is a volume.</summary>
    [Fact]
    public void Processes_write_only_to_volumes()
    {
        var sets = Objects().OfType<V1StatefulSet>().ToDictionary(s => s.Metadata.Name);
        foreach (var (name, template) in Workloads())
        {
            var volumes = (template.Spec.Volumes ?? []).ToDictionary(v => v.Name);
            var claims = sets.TryGetValue(name, out var set) ? set.Spec.VolumeClaimTemplates.Select(c => c.Metadata.Name).ToHashSet() : [];
            foreach (var container in AllContainers(template.Spec))
            {
                var mounts = (container.VolumeMounts ?? []).ToDictionary(m => m.MountPath, m => m.Name);
                Assert.All(mounts.Values, v => Assert.True(volumes.ContainsKey(v) || claims.Contains(v), $"{name}: volume {v} is not declared"));
                Assert.True(mounts.TryGetValue("/tmp", out var tmp) && volumes[tmp].EmptyDir is not null, $"{name}/{container.Name}: /tmp is not an emptyDir");
            }
            var main = template.Spec.Containers[0];
            string Source(string path)
            {
                var volume = main.VolumeMounts.Single(m => m.MountPath == path).Name;
                return claims.Contains(volume) ? "claim" : volumes[volume].EmptyDir is not null ? "emptyDir" : "other";
            }
            if (Databases.Contains(name))
            {
                Assert.Equal("claim", Source("/var/lib/postgresql/data")); // PGDATA is a subdirectory of it
                Assert.Equal("emptyDir", Source("/var/run/postgresql")); // socket and lock file
            }
            else if (name == "redis")
            {
                Assert.Equal("claim", Source("/data"));
            }
            else if (name == "web")
            {
                Assert.Equal("emptyDir", Source("/var/cache/nginx"));
            }
        }
    }

    [Fact]
    public void Stateless_services_have_a_disruption_budget_and_a_cpu_autoscaler()
    {
        var objects = Objects();
        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        var budgets = objects.OfType<V1PodDisruptionBudget>().ToDictionary(p => p.Metadata.Name);
        var autoscalers = objects.OfType<V2HorizontalPodAutoscaler>().ToDictionary(h => h.Metadata.Name);
        Assert.Equal(Stateless.Order(), budgets.Keys.Order());
        Assert.Equal(Stateless.Order(), autoscalers.Keys.Order());
        foreach (var name in Stateless)
        {
            var labels = deployments[name].Spec.Template.Metadata.Labels;
            var budget = budgets[name];
            Assert.Equal("policy/v1", budget.ApiVersion);
            Assert.All(budget.Spec.Selector.MatchLabels, kv => Assert.Equal(kv.Value, labels[kv.Key]));
            Assert.Equal("1", budget.Spec.MaxUnavailable?.Value);

            var autoscaler = autoscalers[name];
            Assert.Equal("autoscaling/v2", autoscaler.ApiVersion);
            Assert.Equal(("apps/v1", "Deployment", name), (autoscaler.Spec.ScaleTargetRef.ApiVersion, autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
            Assert.True(autoscaler.Spec.MinReplicas >= 2, $"{name}: minReplicas {autoscaler.Spec.MinReplicas}");
            Assert.True(autoscaler.Spec.MaxReplicas > autoscaler.Spec.MinReplicas);
            var metric = Assert.Single(autoscaler.Spec.Metrics);
            Assert.Equal(("Resource", "cpu", "Utilization", 70), (metric.Type, metric.Resource.Name, metric.Resource.Target.Type, metric.Resource.Target.AverageUtilization));
            // The autoscaler owns the replica count: a manifest value would reset it on every apply.
            Assert.Null(deployments[name].Spec.Replicas);
        }
    }

    /// <summary>
    /// On a rollout or scale-in, kubelet stops a pod while the endpoints and the Ingress controller still send it
    /// new connections for a few seconds more. The main container first sleeps in preStop (the pod stays in
    /// rotation until it is taken out), then gets SIGTERM; the grace period covers the sleep and .NET's shutdown
    /// (its host's 30 s ShutdownTimeout, in which Kestrel finishes the requests under way). Kubernetes' default is 30 s in all.
    /// </summary>
    [Fact]
    public void Stateless_pods_leave_rotation_before_they_stop_and_have_time_to_finish()
    {
        const int DotnetShutdownSeconds = 30;
        var deployments = Objects().OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        Assert.Equal(Stateless.Order(), deployments.Keys.Order());
        foreach (var name in Stateless)
        {
            var pod = deployments[name].Spec.Template.Spec;
            var sleep = pod.Containers[0].Lifecycle?.PreStop?.Sleep?.Seconds;
            Assert.True(sleep is >= 3 and <= 15, $"{name}: preStop sleeps {sleep?.ToString() ?? "not at all"} (3 to 15 s expected)");
            var grace = pod.TerminationGracePeriodSeconds ?? 30;
            Assert.True(grace >= sleep + DotnetShutdownSeconds, $"{name}: a grace period of {grace} s does not cover the {sleep} s preStop and the {DotnetShutdownSeconds} s shutdown");
        }
    }

    /// <summary>
    /// The replicas of a stateless service spread over the nodes, so one node lost takes its share and not the
    /// whole service. ScheduleAnyway: a cluster with fewer nodes than replicas (one node) still schedules them all.
    /// </summary>
    [Fact]
    public void Stateless_replicas_spread_over_the_nodes()
    {
        var deployments = Objects().OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        Assert.Equal(Stateless.Order(), deployments.Keys.Order());
        foreach (var name in Stateless)
        {
            var spread = (deployments[name].Spec.Template.Spec.TopologySpreadConstraints ?? [])
                .Where(c => c.TopologyKey == "kubernetes.io/hostname")
                .ToList();
            Assert.True(spread.Count == 1, $"{name}: {spread.Count} topologySpreadConstraints over kubernetes.io/hostname (1 expected)");
            var constraint = spread[0];
            Assert.Equal((1, "ScheduleAnyway"), (constraint.MaxSkew, constraint.WhenUnsatisfiable));
            // It counts the Deployment's own pods, no other's.
            foreach (var other in Stateless)
            {
                Assert.True(Selects(constraint.LabelSelector, deployments[other].Spec.Template.Metadata.Labels) == (other == name),
                    $"{name}: the spread constraint {(other == name ? "does not select its own pods" : $"selects {other}'s pods")}");
            }
        }
    }

    /// <summary>
    /// A database's first start runs initdb and the roles script while the server listens on its socket only, so
    /// pg_isready on 127.0.0.1 fails throughout. Liveness alone would kill it after its window, part-way, and the
    /// next start finds a data directory and skips the init scripts: the application roles would never exist. A
    /// startup probe holds liveness off until the server answers, for as long as initdb takes on slow storage.
    /// Redis has the same shape: loading a large append-only file it answers LOADING, not PONG.
    /// </summary>
    [Fact]
    public void Databases_and_redis_have_time_to_initialise_before_liveness_counts()
    {
        const int FirstStartSeconds = 300;
        var workloads = Workloads().ToDictionary(w => w.Name, w => w.Template.Spec);
        foreach (var name in (string[])[.. Databases, "redis"])
        {
            var container = workloads[name].Containers[0];
            var liveness = Window(container.LivenessProbe);
            Assert.True(container.StartupProbe is not null, $"{name}: no startupProbe, so liveness kills a first start that takes more than {liveness} s");
            var startup = Window(container.StartupProbe);
            Assert.True(startup >= FirstStartSeconds, $"{name}: the startup probe allows {startup} s ({FirstStartSeconds} s expected)");
            Assert.Equal(container.ReadinessProbe.Exec.Command, container.StartupProbe.Exec?.Command);
            // Once started, a hung server is still restarted at liveness' pace.
            Assert.True(liveness <= 120, $"{name}: liveness takes {liveness} s to restart a hung server");
        }
    }

    /// <summary>How long a probe may fail from the container's start before kubelet acts.</summary>
    private static int Window(V1Probe probe) => (probe.InitialDelaySeconds ?? 0) + (probe.PeriodSeconds ?? 10) * (probe.FailureThreshold ?? 3);

    /// <summary>Who may open a connection to each workload, evaluated from all NetworkPolicies ("*" = anyone).</summary>
    [Fact]
    public void Network_policies_let_each_workload_be_reached_only_by_its_callers()
    {
        var objects = Objects();
        var policies = objects.OfType<V1NetworkPolicy>().ToList();
        var defaultDeny = Assert.Single(policies, p => p.Spec.PodSelector.MatchLabels is null or { Count: 0 } && p.Spec.PodSelector.MatchExpressions is null);
        Assert.Equal(["Ingress"], defaultDeny.Spec.PolicyTypes);
        Assert.Null(defaultDeny.Spec.Ingress);

        var expected = new Dictionary<string, string[]>
        {
            // Inventory calls Users too: it validates tokens with the keys Users publishes (JWKS).
            ["users"] = ["gateway", "inventory", "orders"],
            ["inventory"] = ["gateway", "orders"],
            ["orders"] = ["gateway"],
            ["web"] = ["gateway"],
            ["gateway"] = ["*"],
            ["users-db"] = ["users"],
            ["orders-db"] = ["orders"],
            ["inventory-db"] = ["inventory"],
            // The gateway keeps its rate-limit buckets in Redis, shared by its replicas.
            ["redis"] = ["gateway", "inventory", "orders", "users"],
        };
        foreach (var (name, template) in Workloads())
        {
            var ports = template.Spec.Containers.SelectMany(c => c.Ports).Select(p => p.ContainerPort.ToString()).ToHashSet();
            var rules = policies
                .Where(p => p.Spec.PolicyTypes.Contains("Ingress") && Selects(p.Spec.PodSelector, template.Metadata.Labels))
                .SelectMany(p => p.Spec.Ingress ?? [])
                .ToList();
            var callers = rules.SelectMany(r => r.FromProperty is null or { Count: 0 }
                    ? ["*"]
                    : r.FromProperty.Select(peer =>
                    {
                        Assert.Null(peer.NamespaceSelector); // same namespace only
                        Assert.Null(peer.IpBlock);
                        return peer.PodSelector.MatchLabels[KubernetesWriter.NameLabel];
                    }))
                .Distinct()
                .Order();
            Assert.Equal(expected[name], callers);
            Assert.All(rules, r => Assert.Subset(ports, r.Ports.Select(p => p.Port.Value).ToHashSet()));
        }
    }

    private static bool Selects(V1LabelSelector selector, IDictionary<string, string> labels) =>
        selector.MatchExpressions is null
        && (selector.MatchLabels ?? new Dictionary<string, string>()).All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);

    [Fact]
    public void The_gateway_is_reached_through_a_TLS_ingress()
    {
        foreach (var (directory, host, secret, ingressClass) in (IEnumerable<(string, string, string, string?)>)
            [(output.KubernetesDirectory, "shop.example.com", "shop-tls", null), (output.KubernetesOptionsDirectory, "shop.acme.test", "acme-shop-tls", "nginx")])
        {
            var objects = Objects(directory);
            var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
            Assert.All(services.Values, s => Assert.Equal("ClusterIP", s.Spec.Type));
            var ingress = Assert.Single(objects.OfType<V1Ingress>());
            Assert.Equal("networking.k8s.io/v1", ingress.ApiVersion);
            Assert.Equal(ingressClass, ingress.Spec.IngressClassName);
            var tls = Assert.Single(ingress.Spec.Tls);
            Assert.Equal(secret, tls.SecretName);
            Assert.Equal([host], tls.Hosts);
            var rule = Assert.Single(ingress.Spec.Rules);
            Assert.Equal(host, rule.Host);
            var path = Assert.Single(rule.Http.Paths);
            Assert.Equal(("/", "Prefix", "gateway"), (path.Path, path.PathType, path.Backend.Service.Name));
            Assert.Contains(services["gateway"].Spec.Ports, p => p.Name == path.Backend.Service.Port.Name);
            // The TLS certificate is the operator's: no Secret of that name is generated.
            Assert.DoesNotContain(objects.OfType<V1Secret>(), s => s.Metadata.Name.StartsWith(secret, StringComparison.Ordinal));
        }
    }

    /// <summary>redis-cli's password options (<c>-a</c>, <c>--pass</c>) in a probe's command line.</summary>
    internal static readonly System.Text.RegularExpressions.Regex RedisPasswordArgument = new(@"(^|\s)(-a|--pass)(\s|$)");

    [Fact]
    public void Every_workload_has_probes_and_services_wait_for_their_dependencies()
    {
        var workloads = Workloads().ToDictionary(w => w.Name, w => w.Template.Spec);
        var servicePorts = Objects().OfType<V1Service>().ToDictionary(s => s.Metadata.Name, s => s.Spec.Ports[0].Port);
        foreach (var (name, pod) in workloads)
        {
            Assert.All(pod.Containers, c => Assert.True(c.ReadinessProbe is not null && c.LivenessProbe is not null, $"{name}/{c.Name}: probes"));
        }
        Assert.All(Databases, d => Assert.Equal("pg_isready", workloads[d].Containers[0].ReadinessProbe.Exec.Command[0]));
        var redisProbe = string.Join(' ', workloads["redis"].Containers[0].ReadinessProbe.Exec.Command);
        Assert.Contains("redis-cli", redisProbe);
        // An argument is in every process list of the node (ps, a monitoring agent) each time the probe runs; the
        // environment is readable only by the container's own user and root.
        Assert.DoesNotMatch(RedisPasswordArgument, redisProbe);

        // The AppHost's WaitFor of a database or Redis, as init containers: each loops until the dependency's
        // Service accepts a connection (a Service only routes to Ready pods), in the service's own image. Not
        // its waits on other services (Orders on Users and Inventory, the gateway on every API and the SPA):
        // init containers run at every pod start, so a gateway pod rescheduled while Inventory had no ready pod
        // (its database restarting) would sit in Init.
        var expected = new Dictionary<string, string[]>
        {
            ["users"] = ["redis", "users-db"],
            ["inventory"] = ["inventory-db", "redis"],
            ["orders"] = ["orders-db", "redis"],
        };
        foreach (var (name, pod) in workloads)
        {
            var waits = (pod.InitContainers ?? []).Where(c => c.Name.StartsWith("wait-for-", StringComparison.Ordinal)).ToList();
            Assert.Equal(expected.GetValueOrDefault(name, []), waits.Select(w => w.Name["wait-for-".Length..]).Order());
            // Then the service's own steps: the migrations of each service with a database, nothing else.
            Assert.Equal(name is "users" or "orders" or "inventory" ? ["migrate"] : [],
                (pod.InitContainers ?? []).Skip(waits.Count).Select(c => c.Name));
            foreach (var wait in waits)
            {
                var dependency = wait.Name["wait-for-".Length..];
                Assert.Equal(pod.Containers[0].Image, wait.Image);
                Assert.Contains($"nc -z -w 2 {dependency} {servicePorts[dependency]}", string.Join(' ', wait.Command.Concat(wait.Args ?? [])));
            }
        }
    }

    [Fact]
    public void Secret_values_are_only_in_the_generated_secrets()
    {
        var secrets = PublishOutput.SecretValues(output.KubernetesDirectory);
        var documents = Regex.Split(output.Rendered(output.KubernetesDirectory), "^---\n", RegexOptions.Multiline);
        var secretDocuments = documents.Where(d => Regex.IsMatch(d, "^kind: Secret$", RegexOptions.Multiline)).ToList();
        var generated = Objects().OfType<V1Secret>().ToList();
        Assert.All(generated, s => Assert.Matches("^[a-z0-9-]+-[a-z0-9]{10}$", s.Metadata.Name)); // kustomize's hash
        Assert.Equal(secrets.Keys.Order(), generated.SelectMany(s => s.Data.Keys).Order());

        var everythingElse = string.Join('\n', documents.Except(secretDocuments));
        foreach (var (key, value) in secrets.Where(kv => kv.Value.Length >= 8))
        {
            Assert.False(everythingElse.Contains(value, StringComparison.Ordinal), $"{key}'s value is in a rendered object");
            Assert.False(everythingElse.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes(value)), StringComparison.Ordinal), $"{key}'s value (base64) is in a rendered object");
        }
    }

    /// <summary>
    /// Kubelet fetches every Secret a pod references, whole, and a node may read the Secrets of the pods it runs: a pod
    /// references only Secrets whose values it reads (Inventory's holds neither the Users database's passwords nor the
    /// JWT signing key). A key and its URI-escaped form (<c>_URI</c>) are one value.
    /// </summary>
    [Fact]
    public void Each_pod_references_only_secrets_whose_values_it_reads()
    {
        var secrets = Objects().OfType<V1Secret>().ToDictionary(s => s.Metadata.Name);
        foreach (var (name, template) in Workloads())
        {
            var read = AllContainers(template.Spec).SelectMany(c => c.Env ?? [])
                .Select(e => e.ValueFrom?.SecretKeyRef?.Key).OfType<string>().Select(Value).ToHashSet();
            foreach (var secret in PublishOutput.SecretNames(template.Spec))
            {
                var unused = secrets[secret].Data.Keys.Where(k => !read.Contains(Value(k))).Order().ToList();
                Assert.True(unused.Count == 0, $"{name}: its pod can read {string.Join(", ", unused)} from the Secret {secret} without using them");
            }
        }

        static string Value(string key) => key.EndsWith("_URI", StringComparison.Ordinal) ? key[..^"_URI".Length] : key;
    }

    /// <summary>
    /// docs/deploy.md, pruning: <c>kubectl apply -k DIR --prune -l app.kubernetes.io/part-of=shop</c> applies only the
    /// objects with that label and deletes the ones it applied before that are no longer in the output (the
    /// ConfigMaps and Secrets of old hash names): every object the output makes must carry it, or it is never applied.
    /// Not in a workload's selector, which the API server refuses to change on an existing Deployment or StatefulSet
    /// (kustomize's commonLabels would put it there).
    /// </summary>
    [Fact]
    public void Every_object_carries_the_label_apply_prunes_by()
    {
        var selector = $"{KubernetesWriter.PartOfLabel}=shop";
        foreach (var directory in (string[])[output.KubernetesDirectory, output.KubernetesOptionsDirectory])
        {
            Assert.All(Objects(directory).Cast<IKubernetesObject<V1ObjectMeta>>(), o =>
                Assert.True(o.Metadata.Labels?.TryGetValue(KubernetesWriter.PartOfLabel, out var partOf) == true && partOf == "shop", $"{o.Kind} {o.Metadata.Name} lacks the label {selector}"));
        }
        var selectors = Objects().OfType<V1Deployment>().Select(d => d.Spec.Selector).Concat(Objects().OfType<V1StatefulSet>().Select(s => s.Spec.Selector));
        Assert.All(selectors, s => Assert.DoesNotContain(KubernetesWriter.PartOfLabel, s.MatchLabels.Keys));
        var docs = File.ReadAllText(Path.Combine(PublishOutput.RepositoryRoot, "docs", "deploy.md"));
        Assert.Contains($"--prune -l {selector}", docs);
    }

    [Fact]
    public void A_missing_secret_key_fails_the_build_naming_the_key()
    {
        var copy = output.CopyOf(output.KubernetesDirectory);
        Assert.Equal(PublishOutput.LoadEnvFile(Path.Combine(copy, "secrets.env.example")).Keys.Order(), PublishOutput.SecretValues(copy).Keys.Order());
        foreach (var (missing, file) in (ValueTuple<string, string>[])[("ADMIN_PASSWORD", "admin-password"), ("USERS_DB_APP_PASSWORD", "users-db-app-password"), ("REDIS_PASSWORD_URI", "redis-password")])
        {
            var secretFile = Path.Combine(copy, "secrets", file + ".env");
            var lines = File.ReadAllLines(secretFile);
            File.WriteAllLines(secretFile, lines.Where(l => !l.StartsWith(missing + "=", StringComparison.Ordinal)));
            var (exitCode, _, error) = PublishOutput.Kustomize(copy);
            Assert.NotEqual(0, exitCode);
            Assert.Contains($"data.{missing}`", error);
            File.WriteAllLines(secretFile, lines);
        }

        File.Delete(Path.Combine(copy, "secrets", "jwt-signing-key.env"));
        var (noFileExit, _, noFileError) = PublishOutput.Kustomize(copy);
        Assert.NotEqual(0, noFileExit);
        Assert.Contains("secrets/jwt-signing-key.env", noFileError);
    }
}
