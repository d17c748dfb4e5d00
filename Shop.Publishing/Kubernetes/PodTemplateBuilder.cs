using k8s.Models;

namespace Shop.Publishing;

/// <summary>The pod of a Deployment or StatefulSet: hardened, with its init containers and volumes.</summary>
internal static class PodTemplateBuilder
{
    public static V1PodTemplateSpec Build(ServicePlan plan)
    {
        var container = ContainerBuilder.Main(plan);
        List<V1Container> initContainers = [.. ContainerBuilder.WaitForDependencies(plan, container), .. ContainerBuilder.Steps(plan, container)];
        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = plan.Labels },
            Spec = new V1PodSpec
            {
                AutomountServiceAccountToken = false,
                // Kubernetes' default of 30 s in all would cut a stateless service's shutdown short after its preStop sleep.
                TerminationGracePeriodSeconds = plan.Service.Stateful ? null : StopTiming.PodGracePeriodSeconds,
                SecurityContext = Security(plan.Service),
                TopologySpreadConstraints = plan.Service.Stateful ? null : [SpreadOverNodes(plan)],
                ImagePullSecrets = PullSecrets(plan),
                InitContainers = initContainers.Count > 0 ? initContainers : null,
                Containers = [container],
                Volumes =
                [
                    .. plan.Scratch.Select(s => new V1Volume { Name = s.Volume, EmptyDir = new V1EmptyDirVolumeSource() }),
                    .. plan.FileDirectories.Select(d => new V1Volume { Name = d.Volume, ConfigMap = new V1ConfigMapVolumeSource { Name = d.ConfigMap } }),
                ],
            },
        };
    }

    /// <summary>
    /// The images built here are pushed to <c>Shop:Publish:Registry</c>, which may need credentials
    /// (<c>Shop:Publish:ImagePullSecret</c>); the databases' and Redis' come from a public registry.
    /// </summary>
    private static List<V1LocalObjectReference>? PullSecrets(ServicePlan plan) =>
        plan.Options.ImagePullSecret is { } secret && plan.Service.Kind is ServiceKind.Project or ServiceKind.DockerfileBuild
            ? [new V1LocalObjectReference { Name = secret }]
            : null;

    /// <summary>
    /// A stateless service's replicas on as many nodes as there are: one node lost takes its share, not the
    /// whole service. ScheduleAnyway, so a cluster with fewer nodes than replicas (one node) still runs them all.
    /// pod-template-hash counts only the current ReplicaSet's pods: a rollout's old ones, about to go, do not skew it.
    /// </summary>
    private static V1TopologySpreadConstraint SpreadOverNodes(ServicePlan plan) => new()
    {
        MaxSkew = 1,
        TopologyKey = "kubernetes.io/hostname",
        WhenUnsatisfiable = "ScheduleAnyway",
        LabelSelector = new V1LabelSelector { MatchLabels = plan.Labels },
        MatchLabelKeys = ["pod-template-hash"],
    };

    private static V1PodSecurityContext Security(DeployService service) => new()
    {
        RunAsNonRoot = true,
        RunAsUser = service.Runtime.User,
        RunAsGroup = service.Runtime.Group,
        FsGroup = service.Runtime.Group, // volumes are group-writable for the image's group
        // Change the ownership of a data volume only when its root does not match (not every file on every start).
        FsGroupChangePolicy = service.Stateful && service.Runtime.Group is not null ? "OnRootMismatch" : null,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };
}
