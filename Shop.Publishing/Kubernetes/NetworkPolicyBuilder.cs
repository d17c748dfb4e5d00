using k8s.Models;
using static Shop.Publishing.KubernetesObjects;

namespace Shop.Publishing;

internal static class NetworkPolicyBuilder
{
    /// <summary>Selects every pod of the namespace and allows no ingress: each service's policy opens what it needs.</summary>
    public static V1NetworkPolicy DefaultDeny(PublishOptions options) => Typed(new V1NetworkPolicy
    {
        Metadata = Metadata(KubernetesWriter.DefaultDenyPolicy, options, nameLabel: false),
        Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
    });

    /// <summary>
    /// Admits, on the service's ports, only the services that connect to it (from the app model's
    /// references); an external port also from anywhere (the Ingress controller), or only from the
    /// controller's namespace when <c>Shop:Publish:IngressControllerNamespace</c> is set. None for a
    /// service nothing may reach.
    /// </summary>
    public static V1NetworkPolicy? Build(ServicePlan plan)
    {
        var service = plan.Service;
        var rules = new List<V1NetworkPolicyIngressRule>();
        var callers = plan.Model.Services.Where(s => s.Name != service.Name && s.References.Contains(service.Name)).Select(s => s.Name).ToList();
        if (callers.Count > 0)
        {
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = [.. callers.Select(c => new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [KubernetesWriter.NameLabel] = c } } })],
                Ports = PolicyPorts(service.Ports),
            });
        }
        var external = service.Ports.Where(p => p.External).ToList();
        if (external.Count > 0)
        {
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = plan.Options.IngressControllerNamespace is { } controller
                    ? [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = controller } } }]
                    : null,
                Ports = PolicyPorts(external),
            });
        }
        return rules.Count == 0 ? null : Typed(new V1NetworkPolicy
        {
            Metadata = Metadata(service.Name, plan.Options),
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector { MatchLabels = plan.Labels }, PolicyTypes = ["Ingress"], Ingress = rules },
        });
    }

    private static List<V1NetworkPolicyPort> PolicyPorts(IEnumerable<DeployPort> ports) =>
        [.. ports.Select(p => new V1NetworkPolicyPort { Port = p.TargetPort, Protocol = "TCP" })];
}
