using System.Reflection;
using k8s;
using k8s.Models;
using static Shop.Publishing.YamlOutput;

namespace Shop.Publishing;

/// <summary>
/// Writes Kubernetes manifests for <c>kubectl apply -k</c>, built from the KubernetesClient model
/// types: a namespace (Pod Security "restricted", ingress denied unless a policy allows it); per
/// service a Deployment (stateless, with a PodDisruptionBudget and a CPU HorizontalPodAutoscaler)
/// or a StatefulSet (has volumes), its ClusterIP Service, a NetworkPolicy admitting only the
/// services that connect to it, a ConfigMap of its plain settings, one per directory of files it
/// mounts, its steps as init containers and, for the external service, a TLS Ingress; a ConfigMap
/// of the non-secret parameters; and a kustomization whose
/// secretGenerator builds the Secret from <c>secrets.env</c> (generated, git-ignored), so no secret
/// value is in a manifest.
/// </summary>
public static class KubernetesWriter
{
    public const string KustomizationFile = "kustomization.yaml";
    public const string NamespaceFile = "namespace.yaml";
    public const string ParametersFile = "parameters.yaml";
    public const string SecretsEnvFile = "secrets.env";
    public const string SecretsExampleFile = "secrets.env.example";
    public const string SecretName = "shop-secrets";
    public const string ParametersConfigMap = "shop-parameters";
    public const string NameLabel = "app.kubernetes.io/name";
    public const string PartOfLabel = "app.kubernetes.io/part-of";
    public const string DefaultDenyPolicy = "default-deny-ingress";

    public static void Write(DeploymentModel model, IReadOnlyDictionary<string, string> values, PublishOptions options, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var files = new List<string> { NamespaceFile, ParametersFile };
        WriteFile(Path.Combine(outputDirectory, NamespaceFile),
            "The Shop's namespace: pods must meet Pod Security \"restricted\"; no pod accepts connections unless a NetworkPolicy allows them.",
            SerializeAll([Namespace(options), DefaultDeny(options)]));

        var secretKeys = new List<string>();
        var parameterData = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in UsedKeys(model))
        {
            if (IsSecretKey(model, key))
            {
                secretKeys.Add(key);
            }
            else
            {
                parameterData[key] = values[key];
            }
        }
        WriteFile(Path.Combine(outputDirectory, ParametersFile), "Non-secret AppHost parameters.",
            SerializeAll([ConfigMap(ParametersConfigMap, options, parameterData)]));

        var external = model.Services.Where(s => s.Ports.Any(p => p.External)).ToList();
        foreach (var service in model.Services)
        {
            var file = $"{service.Name}.yaml";
            files.Add(file);
            // One external service (the gateway) gets the configured host; any other, a subdomain of it.
            var host = external.IndexOf(service) > 0 ? $"{service.Name}.{options.IngressHost}" : options.IngressHost;
            WriteFile(Path.Combine(outputDirectory, file), $"{service.Name}: generated from the Shop AppHost model (./shop publish k8s).",
                SerializeAll(ServiceDocuments(service, model, options, host)));
        }

        WriteSecretFile(Path.Combine(outputDirectory, SecretsEnvFile),
            string.Concat(secretKeys.Select(k => $"{k}={values[k]}\n")));
        File.WriteAllText(Path.Combine(outputDirectory, SecretsExampleFile),
            "# Keys of secrets.env (the values of the Secret shop-secrets). secrets.env is generated and git-ignored.\n" +
            string.Concat(secretKeys.Select(k => $"{k}=\n")));
        WriteGitIgnore(outputDirectory, SecretsEnvFile);

        var kustomization = Map();
        kustomization["apiVersion"] = "kustomize.config.k8s.io/v1beta1";
        kustomization["kind"] = "Kustomization";
        kustomization["namespace"] = options.Namespace;
        kustomization["resources"] = files;
        kustomization["secretGenerator"] = new List<object>
        {
            new Dictionary<string, object?> { ["name"] = SecretName, ["envs"] = new List<string> { SecretsEnvFile } },
        };
        kustomization["replacements"] = secretKeys.Select(RequiredSecretKey).ToList();
        kustomization["labels"] = new List<object>
        {
            new Dictionary<string, object?> { ["pairs"] = new Dictionary<string, object?> { [PartOfLabel] = "shop" } },
        };
        WriteFile(Path.Combine(outputDirectory, KustomizationFile),
            "kubectl apply -k <this directory>\n" +
            "# replacements: one per key of secrets.env. Each fails the build with \"fieldPath `data.<KEY>` is missing\"\n" +
            "# when secrets.env lacks that key; their target kind matches no object, so no value is copied anywhere.\n" +
            "# Using your own secret store instead? Delete secretGenerator and replacements, and create shop-secrets there.",
            Serialize(kustomization));
    }

    private static bool IsSecretKey(DeploymentModel model, string key) =>
        model.Parameters.Any(p => p.Secret && (p.Key == key || p.UriKey == key));

    /// <summary>A kustomize replacement that reads <c>data.KEY</c> of the generated Secret, which fails when it is missing.</summary>
    private static Dictionary<string, object?> RequiredSecretKey(string key) => new()
    {
        ["source"] = new Dictionary<string, object?> { ["kind"] = "Secret", ["name"] = SecretName, ["fieldPath"] = $"data.{key}" },
        ["targets"] = new List<object>
        {
            new Dictionary<string, object?>
            {
                ["select"] = new Dictionary<string, object?> { ["kind"] = "ShopRequiredSecretKey" },
                ["fieldPaths"] = new List<string> { $"data.{key}" },
            },
        },
    };

    private static string SerializeAll(IEnumerable<IKubernetesObject> objects) =>
        string.Join("---\n", objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd('\n') + "\n"));

    private static V1Namespace Namespace(PublishOptions options) => Typed(new V1Namespace
    {
        Metadata = new V1ObjectMeta
        {
            Name = options.Namespace,
            Labels = new Dictionary<string, string>
            {
                [PartOfLabel] = "shop",
                // Pod Security Admission: the API server refuses pods that are not hardened.
                ["pod-security.kubernetes.io/enforce"] = "restricted",
                ["pod-security.kubernetes.io/audit"] = "restricted",
                ["pod-security.kubernetes.io/warn"] = "restricted",
            },
        },
    });

    /// <summary>Selects every pod of the namespace and allows no ingress: each service's policy opens what it needs.</summary>
    private static V1NetworkPolicy DefaultDeny(PublishOptions options) => Typed(new V1NetworkPolicy
    {
        Metadata = Metadata(DefaultDenyPolicy, options, nameLabel: false),
        Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
    });

    private static IEnumerable<IKubernetesObject> ServiceDocuments(DeployService service, DeploymentModel model, PublishOptions options, string host)
    {
        var plain = new Dictionary<string, string>(StringComparer.Ordinal);
        var env = EnvironmentVariables(service.Environment, plain);

        var envConfigMap = $"{service.Name}-env";
        yield return ConfigMap(envConfigMap, options, plain);

        // Read-only root filesystem: the image's writable directories are emptyDir volumes.
        var scratch = service.Runtime.WritablePaths.Select(p => (Path: p, Volume: ScratchVolumeName(p))).ToList();
        // The service's files: a ConfigMap per directory, mounted read-only there.
        var fileDirectories = service.Files.GroupBy(f => f.Directory)
            .Select(g => (Path: g.Key, Volume: ScratchVolumeName(g.Key), ConfigMap: $"{service.Name}-{ScratchVolumeName(g.Key)}", Files: g.ToList()))
            .ToList();
        foreach (var directory in fileDirectories)
        {
            yield return ConfigMap(directory.ConfigMap, options, directory.Files.ToDictionary(f => f.FileName, f => f.Content));
        }
        var container = new V1Container
        {
            Name = service.Name,
            Image = service.Image,
            ImagePullPolicy = "IfNotPresent",
            Command = service.Entrypoint is { } entrypoint ? [entrypoint] : null,
            Args = service.Args.Count > 0 ? [.. service.Args.Select(KubernetesText)] : null,
            Ports = service.Ports.Count > 0
                ? [.. service.Ports.Select(p => new V1ContainerPort { Name = PortName(p), ContainerPort = p.TargetPort, Protocol = "TCP" })]
                : null,
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = envConfigMap } }],
            Env = env.Count > 0 ? env : null,
            ReadinessProbe = Probe(service.Readiness, initialDelay: 5),
            LivenessProbe = Probe(service.Liveness, initialDelay: 30),
            Resources = Resources(options),
            VolumeMounts =
            [
                .. service.Volumes.Select(v => new V1VolumeMount { Name = v.Name, MountPath = v.Target, ReadOnlyProperty = v.ReadOnly }),
                .. scratch.Select(s => new V1VolumeMount { Name = s.Volume, MountPath = s.Path }),
                .. fileDirectories.Select(d => new V1VolumeMount { Name = d.Volume, MountPath = d.Path, ReadOnlyProperty = true }),
            ],
            SecurityContext = ContainerSecurity(),
        };

        List<V1Container> initContainers = [.. WaitForDependencies(service, model, container), .. Steps(service, container, options)];
        var labels = new Dictionary<string, string> { [NameLabel] = service.Name };
        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = labels },
            Spec = new V1PodSpec
            {
                AutomountServiceAccountToken = false,
                SecurityContext = PodSecurity(service),
                InitContainers = initContainers.Count > 0 ? initContainers : null,
                Containers = [container],
                Volumes =
                [
                    .. scratch.Select(s => new V1Volume { Name = s.Volume, EmptyDir = new V1EmptyDirVolumeSource() }),
                    .. fileDirectories.Select(d => new V1Volume { Name = d.Volume, ConfigMap = new V1ConfigMapVolumeSource { Name = d.ConfigMap } }),
                ],
            },
        };
        var selector = new V1LabelSelector { MatchLabels = labels };
        if (service.Stateful)
        {
            yield return Typed(new V1StatefulSet
            {
                Metadata = Metadata(service.Name, options),
                Spec = new V1StatefulSetSpec
                {
                    Replicas = service.Replicas,
                    Selector = selector,
                    ServiceName = service.Name,
                    Template = template,
                    VolumeClaimTemplates =
                    [
                        .. service.Volumes.Select(v => new V1PersistentVolumeClaim
                        {
                            Metadata = new V1ObjectMeta { Name = v.Name },
                            Spec = new V1PersistentVolumeClaimSpec
                            {
                                AccessModes = ["ReadWriteOnce"],
                                Resources = new V1VolumeResourceRequirements
                                {
                                    Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(options.StorageSize) },
                                },
                            },
                        }),
                    ],
                },
            });
        }
        else
        {
            // No replica count: the HorizontalPodAutoscaler owns it (a count here would reset it on every apply).
            yield return Typed(new V1Deployment
            {
                Metadata = Metadata(service.Name, options),
                Spec = new V1DeploymentSpec { Selector = selector, Template = template },
            });
            yield return Typed(new V1PodDisruptionBudget
            {
                Metadata = Metadata(service.Name, options),
                // One replica at a time may be evicted (a node drain never deadlocks, and never empties the service).
                Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = selector },
            });
            var minReplicas = Math.Max(options.MinReplicas, service.Replicas);
            yield return Typed(new V2HorizontalPodAutoscaler
            {
                Metadata = Metadata(service.Name, options),
                Spec = new V2HorizontalPodAutoscalerSpec
                {
                    ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = V1Deployment.KubeKind, Name = service.Name },
                    MinReplicas = minReplicas,
                    MaxReplicas = Math.Max(options.MaxReplicas, minReplicas),
                    Metrics =
                    [
                        new V2MetricSpec
                        {
                            Type = "Resource",
                            Resource = new V2ResourceMetricSource
                            {
                                Name = "cpu",
                                Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = options.CpuUtilization },
                            },
                        },
                    ],
                },
            });
        }

        if (service.Ports.Count == 0)
        {
            yield break;
        }
        yield return Typed(new V1Service
        {
            Metadata = Metadata(service.Name, options),
            Spec = new V1ServiceSpec
            {
                // Nothing gets a LoadBalancer of its own: the external service is reached through the Ingress.
                Type = "ClusterIP",
                ClusterIP = service.Stateful ? "None" : null, // headless: stable DNS for the StatefulSet's pod
                Selector = labels,
                Ports =
                [
                    .. service.Ports.Select(p => new V1ServicePort
                    {
                        Name = PortName(p),
                        // In-cluster clients use <name>:<targetPort>, the same address as on the compose network.
                        Port = ServicePort(p),
                        TargetPort = p.TargetPort,
                        Protocol = "TCP",
                    }),
                ],
            },
        });
        if (NetworkPolicy(service, model, options, labels) is { } policy)
        {
            yield return policy;
        }
        if (service.Ports.FirstOrDefault(p => p.External && p.Scheme is "http" or "https") is { } web)
        {
            yield return Ingress(service, web, options, host);
        }
    }

    private static V1PodSecurityContext PodSecurity(DeployService service) => new()
    {
        RunAsNonRoot = true,
        RunAsUser = service.Runtime.User,
        RunAsGroup = service.Runtime.Group,
        FsGroup = service.Runtime.Group, // volumes are group-writable for the image's group
        // Change the ownership of a data volume only when its root does not match (not every file on every start).
        FsGroupChangePolicy = service.Stateful && service.Runtime.Group is not null ? "OnRootMismatch" : null,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    private static V1SecurityContext ContainerSecurity() => new()
    {
        RunAsNonRoot = true,
        ReadOnlyRootFilesystem = true,
        AllowPrivilegeEscalation = false,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    private static V1ResourceRequirements Resources(PublishOptions options) => new()
    {
        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuRequest), ["memory"] = new(options.MemoryRequest) },
        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuLimit), ["memory"] = new(options.MemoryLimit) },
    };

    /// <summary>
    /// The AppHost's <c>WaitFor</c> as init containers: each loops until the dependency's Service
    /// accepts a TCP connection. A Service only routes to Ready pods (a headless one only resolves
    /// them), so this waits for the dependency's readiness probe, like compose's
    /// <c>service_healthy</c>. Only for the .NET services: they run in our Alpine images, whose
    /// busybox has <c>nc</c>; another image may have no shell, and relies on readiness and restarts.
    /// </summary>
    private static List<V1Container> WaitForDependencies(DeployService service, DeploymentModel model, V1Container main)
    {
        if (service.Kind != ServiceKind.Project)
        {
            return [];
        }
        return
        [
            .. service.DependsOn
                .Select(name => model.Services.Single(s => s.Name == name))
                .Where(dependency => dependency.Ports.Count > 0)
                .Select(dependency => (dependency.Name, Port: ServicePort(dependency.Ports[0])))
                .Select(dependency => new V1Container
                {
                    Name = $"wait-for-{dependency.Name}",
                    Image = main.Image,
                    ImagePullPolicy = main.ImagePullPolicy,
                    Command = ["sh", "-c", $"until nc -z -w 2 {dependency.Name} {dependency.Port}; do echo waiting for {dependency.Name}:{dependency.Port}; sleep 2; done"],
                    Resources = new V1ResourceRequirements
                    {
                        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("16Mi") },
                        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("32Mi") },
                    },
                    VolumeMounts = [.. main.VolumeMounts.Where(m => m.MountPath == "/tmp")],
                    SecurityContext = ContainerSecurity(),
                }),
        ];
    }

    /// <summary>
    /// The service's steps (e.g. its migrations), as init containers after the waits: each runs in the
    /// service's image with only its own arguments and environment, and the pod's main container
    /// starts only once every step has exited 0. Every replica's pod runs them; they must be safe to
    /// repeat and to run at once (the migrations take a lock).
    /// </summary>
    private static IEnumerable<V1Container> Steps(DeployService service, V1Container main, PublishOptions options) =>
        service.Steps.Select(step => new V1Container
        {
            Name = step.Name,
            Image = main.Image,
            ImagePullPolicy = main.ImagePullPolicy,
            Args = step.Args.Count > 0 ? [.. step.Args.Select(KubernetesText)] : null,
            Env = EnvironmentVariables(step.Environment, plain: null) is { Count: > 0 } env ? env : null,
            Resources = Resources(options),
            VolumeMounts = [.. main.VolumeMounts.Where(m => m.MountPath == "/tmp")],
            SecurityContext = ContainerSecurity(),
        });

    /// <summary>
    /// A container's environment: parameters from the Secret or the parameters ConfigMap, composites
    /// (connection strings, URIs) as <c>$(VAR)</c> references to them. Literal values go to
    /// <paramref name="plain"/> (the service's own ConfigMap) when given, else inline.
    /// </summary>
    private static List<V1EnvVar> EnvironmentVariables(IEnumerable<KeyValuePair<string, DeployValue>> values, Dictionary<string, string>? plain)
    {
        var env = new List<V1EnvVar>();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (value.IsLiteral && plain is not null)
            {
                plain[name] = value.LiteralText;
            }
            else if (value.SingleParameter is { } single)
            {
                env.Add(FromParameter(name, single));
            }
            else
            {
                // A composite: declare its parameters first, then refer to them as $(VAR).
                foreach (var parameter in value.Parameters.Where(p => declared.Add(HelperName(p))))
                {
                    env.Add(FromParameter(HelperName(parameter), parameter));
                }
                env.Add(new V1EnvVar { Name = name, Value = KubernetesText(value) });
            }
        }
        return env;
    }

    /// <summary>
    /// Admits, on the service's ports, only the services that connect to it (from the app model's
    /// references); an external port also from anywhere (the Ingress controller), or only from the
    /// controller's namespace when <c>Shop:Publish:IngressControllerNamespace</c> is set.
    /// </summary>
    private static V1NetworkPolicy? NetworkPolicy(DeployService service, DeploymentModel model, PublishOptions options, Dictionary<string, string> labels)
    {
        var rules = new List<V1NetworkPolicyIngressRule>();
        var callers = model.Services.Where(s => s.Name != service.Name && s.References.Contains(service.Name)).Select(s => s.Name).ToList();
        if (callers.Count > 0)
        {
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = [.. callers.Select(c => new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NameLabel] = c } } })],
                Ports = PolicyPorts(service.Ports),
            });
        }
        var external = service.Ports.Where(p => p.External).ToList();
        if (external.Count > 0)
        {
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = options.IngressControllerNamespace is { } controller
                    ? [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = controller } } }]
                    : null,
                Ports = PolicyPorts(external),
            });
        }
        return rules.Count == 0 ? null : Typed(new V1NetworkPolicy
        {
            Metadata = Metadata(service.Name, options),
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector { MatchLabels = labels }, PolicyTypes = ["Ingress"], Ingress = rules },
        });
    }

    private static List<V1NetworkPolicyPort> PolicyPorts(IEnumerable<DeployPort> ports) =>
        [.. ports.Select(p => new V1NetworkPolicyPort { Port = p.TargetPort, Protocol = "TCP" })];

    private static V1Ingress Ingress(DeployService service, DeployPort port, PublishOptions options, string host) => Typed(new V1Ingress
    {
        Metadata = Metadata(service.Name, options),
        Spec = new V1IngressSpec
        {
            IngressClassName = options.IngressClass,
            // The certificate is the operator's (or cert-manager's) Secret; it is never generated here.
            Tls = [new V1IngressTLS { Hosts = [host], SecretName = options.TlsSecret }],
            Rules =
            [
                new V1IngressRule
                {
                    Host = host,
                    Http = new V1HTTPIngressRuleValue
                    {
                        Paths =
                        [
                            new V1HTTPIngressPath
                            {
                                Path = "/",
                                PathType = "Prefix",
                                Backend = new V1IngressBackend
                                {
                                    Service = new V1IngressServiceBackend { Name = service.Name, Port = new V1ServiceBackendPort { Name = PortName(port) } },
                                },
                            },
                        ],
                    },
                },
            ],
        },
    });

    /// <summary>The port of the Service: the target port, or the published one for an external endpoint.</summary>
    private static int ServicePort(DeployPort port) => port.External ? port.PublishedPort ?? port.TargetPort : port.TargetPort;

    /// <summary><c>/var/run/postgresql</c> → <c>var-run-postgresql</c>.</summary>
    private static string ScratchVolumeName(string path) =>
        new string([.. path.Trim('/').Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-')]);

    private static string HelperName(ParameterSegment parameter) => "PARAM_" + parameter.Key;

    private static V1EnvVar FromParameter(string name, ParameterSegment parameter) => new()
    {
        Name = name,
        ValueFrom = parameter.Parameter.Secret
            ? new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = SecretName, Key = parameter.Key } }
            : new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = ParametersConfigMap, Key = parameter.Key } },
    };

    /// <summary>Literal text with <c>$(</c> escaped as <c>$$(</c>; parameters as <c>$(PARAM_KEY)</c>.</summary>
    private static string KubernetesText(DeployValue value) =>
        value.Render(t => t.Replace("$(", "$$(", StringComparison.Ordinal), p => $"$({HelperName(p)})");

    private static V1Probe? Probe(DeployProbe? probe, int initialDelay)
    {
        var handler = probe switch
        {
            HttpProbe http => new V1Probe { HttpGet = new V1HTTPGetAction { Path = http.Path, Port = http.Port } },
            ExecProbe exec => new V1Probe { Exec = new V1ExecAction { Command = [.. exec.Command] } },
            TcpProbe tcp => new V1Probe { TcpSocket = new V1TCPSocketAction { Port = tcp.Port } },
            _ => null,
        };
        return handler is null ? null : handler with { InitialDelaySeconds = initialDelay, PeriodSeconds = 10, TimeoutSeconds = 5, FailureThreshold = 6 };
    }

    private static string PortName(DeployPort port) => port.Name.Length <= 15 ? port.Name : port.Name[..15];

    private static V1ObjectMeta Metadata(string name, PublishOptions options, bool nameLabel = true) => new()
    {
        Name = name,
        NamespaceProperty = options.Namespace,
        Labels = nameLabel
            ? new Dictionary<string, string> { [NameLabel] = name, [PartOfLabel] = "shop" }
            : new Dictionary<string, string> { [PartOfLabel] = "shop" },
    };

    private static V1ConfigMap ConfigMap(string name, PublishOptions options, Dictionary<string, string> data) =>
        Typed(new V1ConfigMap { Metadata = Metadata(name, options), Data = data });

    /// <summary>Sets apiVersion and kind from the model type's Kubernetes entity attribute.</summary>
    private static T Typed<T>(T o) where T : IKubernetesObject
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a Kubernetes kind.");
        o.ApiVersion = entity.Group is { Length: > 0 } group ? $"{group}/{entity.ApiVersion}" : entity.ApiVersion;
        o.Kind = entity.Kind;
        return o;
    }
}
