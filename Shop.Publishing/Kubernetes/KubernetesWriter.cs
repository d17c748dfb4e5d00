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
/// Ingress; a ConfigMap of the non-secret parameters; and a kustomization whose secretGenerator
/// builds the Secret from <c>secrets.env</c> (generated, git-ignored), so no secret value is in a manifest.
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
            SerializeAll([Namespace(options), NetworkPolicyBuilder.DefaultDeny(options)]));

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
            SerializeAll([ConfigMapBuilder.Build(ParametersConfigMap, options, parameterData)]));

        var external = model.Services.Where(s => s.Ports.Any(p => p.External)).ToList();
        foreach (var service in model.Services)
        {
            var file = $"{service.Name}.yaml";
            files.Add(file);
            // One external service (the gateway) gets the configured host; any other, a subdomain of it.
            var host = external.IndexOf(service) > 0 ? $"{service.Name}.{options.IngressHost}" : options.IngressHost;
            WriteFile(Path.Combine(outputDirectory, file), $"{service.Name}: generated from the Shop AppHost model (./shop publish k8s).",
                SerializeAll(ServiceObjects(new ServicePlan(service, model, options, host))));
        }

        WriteSecretFile(Path.Combine(outputDirectory, SecretsEnvFile),
            string.Concat(secretKeys.Select(k => $"{k}={values[k]}\n")));
        File.WriteAllText(Path.Combine(outputDirectory, SecretsExampleFile),
            "# Keys of secrets.env (the values of the Secret shop-secrets). secrets.env is generated and git-ignored.\n" +
            string.Concat(secretKeys.Select(k => $"{k}=\n")));
        WriteGitIgnore(outputDirectory, SecretsEnvFile);

        var kustomization = new Kustomization
        {
            Namespace = options.Namespace,
            Resources = files,
            SecretGenerator = [new KustomizeSecretGenerator(SecretName, [SecretsEnvFile])],
            Replacements = [.. secretKeys.Select(Kustomization.RequiredSecretKey)],
            Labels = [new KustomizeLabels(new Dictionary<string, string> { [PartOfLabel] = "shop" })],
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

    /// <summary>
    /// One service's objects, in this order: its settings ConfigMap, a ConfigMap per directory of
    /// files, a StatefulSet (with volumes) or a Deployment with its PodDisruptionBudget and
    /// HorizontalPodAutoscaler, and, when it has ports, its Service, NetworkPolicy and Ingress.
    /// </summary>
    internal static IEnumerable<IKubernetesObject> ServiceObjects(ServicePlan plan)
    {
        yield return ConfigMapBuilder.Environment(plan);
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
