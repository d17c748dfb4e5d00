using k8s;
using k8s.Models;
using static Shop.Publishing.KubernetesObjects;
using static Shop.Publishing.YamlOutput;

namespace Shop.Publishing;

/// <summary>
/// Writes Kubernetes manifests for <c>kubectl apply -k</c>, built from the KubernetesClient model
/// types (one small builder per kind, over a <see cref="ServicePlan"/>) and serialized with
/// <c>KubernetesYaml</c>: a namespace (Pod Security "restricted", ingress denied unless a policy
/// allows it); per service a Deployment (stateless, with a PodDisruptionBudget and a CPU
/// HorizontalPodAutoscaler) or a StatefulSet (has volumes), its ClusterIP Service, a NetworkPolicy
/// admitting only the services that connect to it, a ConfigMap of its plain settings, one per
/// directory of files it mounts, its steps as init containers and, for the external service, a TLS
/// Ingress; and a kustomization whose secretGenerator builds one Secret per secret parameter from its own
/// <c>secrets/&lt;name&gt;.env</c> (generated, git-ignored), so no secret value is in a manifest, and whose
/// configMapGenerator builds the ConfigMaps the containers read at start (the non-secret parameters, each
/// service's settings) from <c>.env</c> files beside it. Generated objects get a hash of their content in their
/// name, so a changed value (an edit of <c>parameters.env</c> or of one secret's file, a new publish) renames
/// them and rolls the pods that read them, and only those: a pod references only the Secrets it reads.
/// </summary>
public static class KubernetesWriter
{
    public const string KustomizationFile = "kustomization.yaml";
    public const string NamespaceFile = "namespace.yaml";
    public const string ParametersEnvFile = "parameters.env";
    /// <summary>Where earlier versions kept the non-secret parameters (a plain ConfigMap): read once, then removed.</summary>
    public const string LegacyParametersFile = "parameters.yaml";
    /// <summary>The secret parameters' values, one <c>&lt;name&gt;.env</c> per Secret (<see cref="SecretFile"/>).</summary>
    public const string SecretsDirectory = "secrets";
    /// <summary>Where earlier versions kept every secret (one Secret, <c>shop-secrets</c>): read once, then removed.</summary>
    public const string LegacySecretsFile = "secrets.env";
    public const string SecretsExampleFile = "secrets.env.example";
    public const string ParametersConfigMap = "shop-parameters";
    public const string NameLabel = "app.kubernetes.io/name";
    public const string PartOfLabel = "app.kubernetes.io/part-of";
    public const string DefaultDenyPolicy = "default-deny-ingress";

    public static void Write(DeploymentModel model, IReadOnlyDictionary<string, string> values, PublishOptions options, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var files = new List<string> { NamespaceFile };
        var configMaps = new List<KustomizeGenerator>();
        WriteFile(Path.Combine(outputDirectory, NamespaceFile),
            "The Shop's namespace: pods must meet Pod Security \"restricted\"; no pod accepts connections unless a NetworkPolicy allows them.",
            SerializeAll([Namespace(options), NetworkPolicyBuilder.DefaultDeny(options)]));

        // A secret parameter's keys (its value, and the URI-escaped form where a URI uses it) make its Secret.
        var secrets = new Dictionary<DeployParameter, List<string>>();
        var parameterData = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in UsedKeys(model))
        {
            if (model.Parameters.FirstOrDefault(p => p.Secret && (p.Key == key || p.UriKey == key)) is { } secret)
            {
                (secrets.TryGetValue(secret, out var keys) ? keys : secrets[secret] = []).Add(key);
            }
            else
            {
                parameterData[key] = values[key];
            }
        }
        configMaps.Add(WriteEnvironment(outputDirectory, ParametersConfigMap, ParametersEnvFile, parameterData));
        File.Delete(Path.Combine(outputDirectory, LegacyParametersFile)); // its values were read back (ReadValues)

        var external = model.Services.Where(s => s.Ports.Any(p => p.External)).ToList();
        foreach (var service in model.Services)
        {
            var file = $"{service.Name}.yaml";
            files.Add(file);
            // One external service (the gateway) gets the configured host; any other, a subdomain of it.
            var host = external.IndexOf(service) > 0 ? $"{service.Name}.{options.IngressHost}" : options.IngressHost;
            var plan = new ServicePlan(service, model, options, host);
            configMaps.Add(WriteEnvironment(outputDirectory, plan.EnvironmentConfigMap, $"{service.Name}.env", plan.PlainEnvironment));
            WriteFile(Path.Combine(outputDirectory, file), $"{service.Name}: generated from the Shop AppHost model (./shop publish k8s).",
                SerializeAll(ServiceObjects(plan)));
        }

        var secretGenerators = WriteSecrets(outputDirectory, secrets, values);
        File.WriteAllText(Path.Combine(outputDirectory, SecretsExampleFile),
            $"# The Secrets kustomize generates, one per secret parameter, each from its own file {SecretsDirectory}/<name>.env\n" +
            "# (generated, git-ignored): a new value renames only its Secret, and rolls only the pods that read it.\n" +
            string.Concat(secrets.Select(s => $"# Secret {SecretName(s.Key)}: {SecretFile(s.Key)}\n" + string.Concat(s.Value.Select(k => $"{k}=\n")))));
        WriteGitIgnore(outputDirectory, SecretsDirectory + "/");

        var kustomization = new Kustomization
        {
            Namespace = options.Namespace,
            Resources = files,
            ConfigMapGenerator = configMaps,
            SecretGenerator = secretGenerators,
            Replacements = [.. secrets.SelectMany(s => s.Value.Select(key => Kustomization.RequiredSecretKey(SecretName(s.Key), key)))],
            // On every object the output makes: apply -k --prune -l selects by it (docs/deploy.md).
            Labels = [new KustomizeLabels(new Dictionary<string, string> { [PartOfLabel] = "shop" })],
        };
        WriteFile(Path.Combine(outputDirectory, KustomizationFile),
            "kubectl apply -k <this directory>\n" +
            $"# Once the rollout is done, the same with --prune -l {PartOfLabel}=shop --prune-allowlist=core/v1/ConfigMap\n" +
            "# --prune-allowlist=core/v1/Secret deletes the ConfigMaps and Secrets of earlier hash names (docs/deploy.md).\n" +
            "# replacements: one per key of a Secret. Each fails the build with \"fieldPath `data.<KEY>` is missing\"\n" +
            $"# when the Secret's file in {SecretsDirectory}/ lacks that key; their target kind matches no object, so no value is copied anywhere.\n" +
            "# Using your own secret store instead? Delete secretGenerator and replacements, and create the Secrets of secrets.env.example there.",
            Serialize(kustomization));
    }

    /// <summary>The Secret of a secret parameter: named after it (kustomize adds the hash of its content).</summary>
    public static string SecretName(DeployParameter parameter) => parameter.Name.ToLowerInvariant();

    /// <summary>The file, relative to the output directory, that the Secret of a secret parameter is generated from.</summary>
    public static string SecretFile(DeployParameter parameter) => $"{SecretsDirectory}/{SecretName(parameter)}.env";

    /// <summary>
    /// Each secret parameter's file (owner-only, in an owner-only directory) and its generator. The files of parameters
    /// the model no longer has, and an earlier version's single <see cref="LegacySecretsFile"/>, were read back
    /// (<see cref="ReadValues"/>) and are removed.
    /// </summary>
    private static List<KustomizeGenerator> WriteSecrets(string outputDirectory, Dictionary<DeployParameter, List<string>> secrets, IReadOnlyDictionary<string, string> values)
    {
        var directory = Path.Combine(outputDirectory, SecretsDirectory);
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var generators = new List<KustomizeGenerator>();
        foreach (var (parameter, keys) in secrets)
        {
            WriteSecretFile(Path.Combine(outputDirectory, SecretFile(parameter)), EnvironmentText(keys.Select(k => KeyValuePair.Create(k, values[k]))));
            generators.Add(Generator(SecretName(parameter), SecretFile(parameter)));
        }
        var written = secrets.Keys.Select(p => Path.GetFullPath(Path.Combine(outputDirectory, SecretFile(p)))).ToHashSet();
        foreach (var stale in Directory.GetFiles(directory, "*.env").Where(f => !written.Contains(Path.GetFullPath(f))))
        {
            File.Delete(stale);
        }
        File.Delete(Path.Combine(outputDirectory, LegacySecretsFile));
        return generators;
    }

    /// <summary>
    /// The parameter values already in an output directory, for publishing again to keep: the secrets and the
    /// non-secret parameters (or, from an output of an earlier version, its <c>parameters.yaml</c>).
    /// </summary>
    public static Dictionary<string, string> ReadValues(string outputDirectory)
    {
        var values = EnvFile.ReadKustomize(Path.Combine(outputDirectory, ParametersEnvFile));
        var legacy = Path.Combine(outputDirectory, LegacyParametersFile);
        if (File.Exists(legacy))
        {
            foreach (var map in KubernetesYaml.LoadAllFromString(File.ReadAllText(legacy)).OfType<V1ConfigMap>())
            {
                foreach (var (key, value) in map.Data ?? new Dictionary<string, string>())
                {
                    values.TryAdd(key, value);
                }
            }
        }
        // An earlier version's single secrets.env first, then each Secret's own file over it.
        var secretsDirectory = Path.Combine(outputDirectory, SecretsDirectory);
        var secretFiles = Directory.Exists(secretsDirectory) ? Directory.GetFiles(secretsDirectory, "*.env").Order(StringComparer.Ordinal) : Enumerable.Empty<string>();
        foreach (var file in secretFiles.Prepend(Path.Combine(outputDirectory, LegacySecretsFile)))
        {
            foreach (var (key, value) in EnvFile.ReadKustomize(file))
            {
                values[key] = value;
            }
        }
        return values;
    }

    /// <summary>
    /// A ConfigMap as kustomize's generator builds it from a <c>KEY=value</c> file: each value verbatim, to
    /// the end of its line (kustomize neither trims nor unquotes it).
    /// </summary>
    private static KustomizeGenerator WriteEnvironment(string outputDirectory, string name, string file, IReadOnlyDictionary<string, string> data)
    {
        File.WriteAllText(Path.Combine(outputDirectory, file), EnvironmentText(data));
        return Generator(name, file);
    }

    private static string EnvironmentText(IEnumerable<KeyValuePair<string, string>> data) =>
        string.Concat(data.Select(kv => $"{kv.Key}={EnvFile.KustomizeValue(kv.Value)}\n"));

    /// <summary>A generator with the name label every other object of the Shop carries (part-of comes from the kustomization's labels).</summary>
    private static KustomizeGenerator Generator(string name, string file) =>
        new(name, [file], new KustomizeGeneratorOptions(new Dictionary<string, string> { [NameLabel] = name }));

    /// <summary>
    /// One service's objects, in this order: a ConfigMap per directory of files (its settings are a
    /// generated ConfigMap, <see cref="WriteEnvironment"/>), a StatefulSet (with volumes) or a Deployment with its PodDisruptionBudget and
    /// HorizontalPodAutoscaler, and, when it has ports, its Service, NetworkPolicy and Ingress.
    /// </summary>
    internal static IEnumerable<IKubernetesObject> ServiceObjects(ServicePlan plan)
    {
        foreach (var files in ConfigMapBuilder.Files(plan))
        {
            yield return files;
        }
        var template = PodTemplateBuilder.Build(plan);
        if (plan.Service.Stateful)
        {
            yield return StatefulSetBuilder.Build(plan, template);
        }
        else
        {
            yield return DeploymentBuilder.Build(plan, template);
            yield return PodDisruptionBudgetBuilder.Build(plan);
            yield return HorizontalPodAutoscalerBuilder.Build(plan);
        }
        if (ServiceBuilder.Build(plan) is not { } service)
        {
            yield break; // nothing connects to a service without ports
        }
        yield return service;
        if (NetworkPolicyBuilder.Build(plan) is { } policy)
        {
            yield return policy;
        }
        if (IngressBuilder.Build(plan) is { } ingress)
        {
            yield return ingress;
        }
    }

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
}
