using k8s.Models;
using static Shop.Publishing.KubernetesObjects;

namespace Shop.Publishing;

/// <summary>A service with data volumes: one StatefulSet, a PersistentVolumeClaim per volume.</summary>
internal static class StatefulSetBuilder
{
    public static V1StatefulSet Build(ServicePlan plan, V1PodTemplateSpec template) => Typed(new V1StatefulSet
    {
        Metadata = Metadata(plan.Name, plan.Options),
        Spec = new V1StatefulSetSpec
        {
            Replicas = plan.Service.Replicas,
            Selector = new V1LabelSelector { MatchLabels = plan.Labels },
            ServiceName = plan.Name,
            Template = template,
            VolumeClaimTemplates =
            [
                .. plan.Service.Volumes.Select(v => new V1PersistentVolumeClaim
                {
                    Metadata = new V1ObjectMeta { Name = v.Name },
                    Spec = new V1PersistentVolumeClaimSpec
                    {
                        AccessModes = ["ReadWriteOnce"],
                        Resources = new V1VolumeResourceRequirements
                        {
                            Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(plan.Options.StorageSize) },
                        },
                    },
                }),
            ],
        },
    });
}
