using k8s.Models;
using static Shop.Publishing.KubernetesObjects;

namespace Shop.Publishing;

/// <summary>The ClusterIP Service of a service with ports (headless for a StatefulSet); none without ports.</summary>
internal static class ServiceBuilder
{
    public static V1Service? Build(ServicePlan plan) => plan.Service.Ports.Count == 0 ? null : Typed(new V1Service
    {
        Metadata = Metadata(plan.Name, plan.Options),
        Spec = new V1ServiceSpec
        {
            // Nothing gets a LoadBalancer of its own: the external service is reached through the Ingress.
            Type = "ClusterIP",
            ClusterIP = plan.Service.Stateful ? "None" : null, // headless: stable DNS for the StatefulSet's pod
            Selector = plan.Labels,
            Ports =
            [
                .. plan.Service.Ports.Select(p => new V1ServicePort
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
}
