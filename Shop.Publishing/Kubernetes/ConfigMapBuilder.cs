using k8s.Models;
using static Shop.Publishing.KubernetesObjects;

namespace Shop.Publishing;

/// <summary>ConfigMaps: only literal settings, non-secret parameters and files; a secret value never goes into one.</summary>
internal static class ConfigMapBuilder
{
    public static V1ConfigMap Build(string name, PublishOptions options, Dictionary<string, string> data) =>
        Typed(new V1ConfigMap { Metadata = Metadata(name, options), Data = data });

    /// <summary>The service's literal settings, read by its container with <c>envFrom</c>.</summary>
    public static V1ConfigMap Environment(ServicePlan plan) => Build(plan.EnvironmentConfigMap, plan.Options, plan.PlainEnvironment);

    /// <summary>One per directory of the service's files.</summary>
    public static IEnumerable<V1ConfigMap> Files(ServicePlan plan) =>
        plan.FileDirectories.Select(d => Build(d.ConfigMap, plan.Options, d.Files.ToDictionary(f => f.FileName, f => f.Content)));
}
