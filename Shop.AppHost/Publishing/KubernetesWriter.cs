using static Shop.AppHost.Publishing.YamlOutput;

namespace Shop.AppHost.Publishing;

/// <summary>
/// Writes Kubernetes manifests for <c>kubectl apply -k</c>: a namespace, per service a Deployment
/// (stateless) or StatefulSet (has volumes) with its Service and a ConfigMap of its plain settings;
/// a ConfigMap of the non-secret parameters; and a kustomization whose secretGenerator builds the
/// Secret from <c>secrets.env</c> (generated, git-ignored) so no secret value is in a manifest.
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

    public static void Write(DeploymentModel model, IReadOnlyDictionary<string, string> values, PublishOptions options, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var files = new List<string> { NamespaceFile, ParametersFile };
        WriteFile(Path.Combine(outputDirectory, NamespaceFile), "The Shop's namespace.", Serialize(new Dictionary<string, object?>
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new Dictionary<string, object?> { ["name"] = options.Namespace, ["labels"] = new Dictionary<string, object?> { [PartOfLabel] = "shop" } },
        }));

        var secretKeys = new List<string>();
        var parameterData = Map();
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
            Serialize(ConfigMap(ParametersConfigMap, options, parameterData)));

        foreach (var service in model.Services)
        {
            var file = $"{service.Name}.yaml";
            files.Add(file);
            WriteFile(Path.Combine(outputDirectory, file), $"{service.Name}: generated from the Shop AppHost model (./shop publish k8s).",
                SerializeAll(ServiceDocuments(service, model, options)));
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
        kustomization["labels"] = new List<object>
        {
            new Dictionary<string, object?> { ["pairs"] = new Dictionary<string, object?> { [PartOfLabel] = "shop" } },
        };
        WriteFile(Path.Combine(outputDirectory, KustomizationFile), "kubectl apply -k <this directory>", Serialize(kustomization));
    }

    private static bool IsSecretKey(DeploymentModel model, string key) =>
        model.Parameters.Any(p => p.Secret && (p.Key == key || p.UriKey == key));

    private static IEnumerable<object> ServiceDocuments(DeployService service, DeploymentModel model, PublishOptions options)
    {
        var plain = Map();
        var env = new List<object>();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in service.Environment)
        {
            if (value.IsLiteral)
            {
                plain[name] = value.LiteralText;
            }
            else if (value.SingleParameter is { } single)
            {
                env.Add(FromParameter(name, single));
            }
            else
            {
                // A composite (connection string, URI): declare its parameters first, then refer to them as $(VAR).
                foreach (var parameter in value.Parameters.Where(p => declared.Add(HelperName(p))))
                {
                    env.Add(FromParameter(HelperName(parameter), parameter));
                }
                env.Add(new Dictionary<string, object?> { ["name"] = name, ["value"] = KubernetesText(value) });
            }
        }

        var envConfigMap = $"{service.Name}-env";
        yield return ConfigMap(envConfigMap, options, plain);

        var container = Map();
        container["name"] = service.Name;
        container["image"] = service.Image;
        container["imagePullPolicy"] = "IfNotPresent";
        if (service.Entrypoint is { } entrypoint)
        {
            container["command"] = new List<string> { entrypoint };
        }
        if (service.Args.Count > 0)
        {
            container["args"] = service.Args.Select(KubernetesText).ToList();
        }
        if (service.Ports.Count > 0)
        {
            container["ports"] = service.Ports.Select(p => (object)new Dictionary<string, object?>
            {
                ["name"] = PortName(p), ["containerPort"] = p.TargetPort, ["protocol"] = "TCP",
            }).ToList();
        }
        container["envFrom"] = new List<object> { new Dictionary<string, object?> { ["configMapRef"] = new Dictionary<string, object?> { ["name"] = envConfigMap } } };
        if (env.Count > 0)
        {
            container["env"] = env;
        }
        if (Probe(service.Readiness, initialDelay: 5) is { } readiness)
        {
            container["readinessProbe"] = readiness;
        }
        if (Probe(service.Liveness, initialDelay: 30) is { } liveness)
        {
            container["livenessProbe"] = liveness;
        }
        container["resources"] = new Dictionary<string, object?>
        {
            ["requests"] = new Dictionary<string, object?> { ["cpu"] = options.CpuRequest, ["memory"] = options.MemoryRequest },
            ["limits"] = new Dictionary<string, object?> { ["cpu"] = options.CpuLimit, ["memory"] = options.MemoryLimit },
        };
        if (service.Volumes.Count > 0)
        {
            container["volumeMounts"] = service.Volumes.Select(v => (object)new Dictionary<string, object?>
            {
                ["name"] = v.Name, ["mountPath"] = v.Target, ["readOnly"] = v.ReadOnly,
            }).ToList();
        }
        if (service.Kind == ServiceKind.Project)
        {
            // The SDK-built images run as the non-root 'app' user (uid 1654).
            container["securityContext"] = new Dictionary<string, object?> { ["runAsNonRoot"] = true, ["allowPrivilegeEscalation"] = false };
        }

        var labels = new Dictionary<string, object?> { [NameLabel] = service.Name };
        var spec = Map();
        spec["replicas"] = service.Replicas;
        spec["selector"] = new Dictionary<string, object?> { ["matchLabels"] = labels };
        if (service.Stateful)
        {
            spec["serviceName"] = service.Name;
        }
        spec["template"] = new Dictionary<string, object?>
        {
            ["metadata"] = new Dictionary<string, object?> { ["labels"] = labels },
            ["spec"] = new Dictionary<string, object?> { ["containers"] = new List<object> { container } },
        };
        if (service.Stateful)
        {
            spec["volumeClaimTemplates"] = service.Volumes.Select(v => (object)new Dictionary<string, object?>
            {
                ["metadata"] = new Dictionary<string, object?> { ["name"] = v.Name },
                ["spec"] = new Dictionary<string, object?>
                {
                    ["accessModes"] = new List<string> { "ReadWriteOnce" },
                    ["resources"] = new Dictionary<string, object?> { ["requests"] = new Dictionary<string, object?> { ["storage"] = options.StorageSize } },
                },
            }).ToList();
        }
        yield return new Dictionary<string, object?>
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = service.Stateful ? "StatefulSet" : "Deployment",
            ["metadata"] = Metadata(service.Name, options),
            ["spec"] = spec,
        };

        if (service.Ports.Count > 0)
        {
            var external = service.Ports.Any(p => p.External);
            var serviceSpec = Map();
            serviceSpec["type"] = external ? "LoadBalancer" : "ClusterIP";
            if (service.Stateful)
            {
                serviceSpec["clusterIP"] = "None"; // headless: stable DNS for the StatefulSet's pod
            }
            serviceSpec["selector"] = labels;
            serviceSpec["ports"] = service.Ports.Select(p => (object)new Dictionary<string, object?>
            {
                ["name"] = PortName(p),
                // In-cluster clients use <name>:<targetPort>, the same address as on the compose network.
                ["port"] = p.External ? p.PublishedPort ?? p.TargetPort : p.TargetPort,
                ["targetPort"] = p.TargetPort,
                ["protocol"] = "TCP",
            }).ToList();
            yield return new Dictionary<string, object?>
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Service",
                ["metadata"] = Metadata(service.Name, options),
                ["spec"] = serviceSpec,
            };
        }
    }

    private static string HelperName(ParameterSegment parameter) => "PARAM_" + parameter.Key;

    private static Dictionary<string, object?> FromParameter(string name, ParameterSegment parameter)
    {
        var secret = parameter.Parameter.Secret;
        return new Dictionary<string, object?>
        {
            ["name"] = name,
            ["valueFrom"] = new Dictionary<string, object?>
            {
                [secret ? "secretKeyRef" : "configMapKeyRef"] = new Dictionary<string, object?>
                {
                    ["name"] = secret ? SecretName : ParametersConfigMap,
                    ["key"] = parameter.Key,
                },
            },
        };
    }

    /// <summary>Literal text with <c>$(</c> escaped as <c>$$(</c>; parameters as <c>$(PARAM_KEY)</c>.</summary>
    private static string KubernetesText(DeployValue value) =>
        value.Render(t => t.Replace("$(", "$$(", StringComparison.Ordinal), p => $"$({HelperName(p)})");

    private static Dictionary<string, object?>? Probe(DeployProbe? probe, int initialDelay)
    {
        var yaml = Map();
        switch (probe)
        {
            case HttpProbe http:
                yaml["httpGet"] = new Dictionary<string, object?> { ["path"] = http.Path, ["port"] = http.Port };
                break;
            case ExecProbe exec:
                yaml["exec"] = new Dictionary<string, object?> { ["command"] = exec.Command.ToList() };
                break;
            case TcpProbe tcp:
                yaml["tcpSocket"] = new Dictionary<string, object?> { ["port"] = tcp.Port };
                break;
            default:
                return null;
        }
        yaml["initialDelaySeconds"] = initialDelay;
        yaml["periodSeconds"] = 10;
        yaml["timeoutSeconds"] = 5;
        yaml["failureThreshold"] = 6;
        return yaml;
    }

    private static string PortName(DeployPort port) => port.Name.Length <= 15 ? port.Name : port.Name[..15];

    private static Dictionary<string, object?> Metadata(string name, PublishOptions options) => new()
    {
        ["name"] = name,
        ["namespace"] = options.Namespace,
        ["labels"] = new Dictionary<string, object?> { [NameLabel] = name, [PartOfLabel] = "shop" },
    };

    private static Dictionary<string, object?> ConfigMap(string name, PublishOptions options, Dictionary<string, object?> data) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = Metadata(name, options),
        ["data"] = data,
    };
}
