using k8s.Models;
using static Shop.Publishing.KubernetesObjects;

namespace Shop.Publishing;

/// <summary>A stateless service: a Deployment whose replica count the HorizontalPodAutoscaler owns.</summary>
internal static class DeploymentBuilder
{
    // No replica count: the HorizontalPodAutoscaler owns it (a count here would reset it on every apply).
    // The strategy is written out because the databases' max_connections counts its pods: a surge of 25 % (Kubernetes'
    // default) and no old pod stopped before its replacement is ready (maxUnavailable 0, not the default 25 %), so a
    // rollout runs at most the replicas, the surge, and the batch of old pods still stopping (DatabaseConnectionBudget).
    public static V1Deployment Build(ServicePlan plan, V1PodTemplateSpec template) => Typed(new V1Deployment
    {
        Metadata = Metadata(plan.Name, plan.Options),
        Spec = new V1DeploymentSpec
        {
            Selector = new V1LabelSelector { MatchLabels = plan.Labels },
            Template = template,
            Strategy = new V1DeploymentStrategy
            {
                Type = "RollingUpdate",
                RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = $"{PublishOptions.RolloutSurgePercent}%", MaxUnavailable = 0 },
            },
        },
    });
}

internal static class PodDisruptionBudgetBuilder
{
    // One replica at a time may be evicted (a node drain never deadlocks, and never empties the service).
    public static V1PodDisruptionBudget Build(ServicePlan plan) => Typed(new V1PodDisruptionBudget
    {
        Metadata = Metadata(plan.Name, plan.Options),
        Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = new V1LabelSelector { MatchLabels = plan.Labels } },
    });
}

internal static class HorizontalPodAutoscalerBuilder
{
    /// <summary>Scales the Deployment on CPU between the configured bounds (at least the app model's replicas).</summary>
    public static V2HorizontalPodAutoscaler Build(ServicePlan plan)
    {
        var options = plan.Options;
        var (minReplicas, maxReplicas) = options.AutoscalerReplicas(plan.Service.Replicas);
        return Typed(new V2HorizontalPodAutoscaler
        {
            Metadata = Metadata(plan.Name, options),
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = V1Deployment.KubeKind, Name = plan.Name },
                MinReplicas = minReplicas,
                MaxReplicas = maxReplicas,
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
}
