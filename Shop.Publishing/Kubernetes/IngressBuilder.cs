using k8s.Models;
using static Shop.Publishing.KubernetesObjects;

namespace Shop.Publishing;

/// <summary>A TLS Ingress for a service's external HTTP port; none for a service without one.</summary>
internal static class IngressBuilder
{
    public static V1Ingress? Build(ServicePlan plan) => Port(plan.Service) is { } port ? Build(plan, port) : null;

    /// <summary>The port an Ingress serves: the service's first external HTTP one.</summary>
    public static DeployPort? Port(DeployService service) => service.Ports.FirstOrDefault(p => p.External && p.Scheme is "http" or "https");

    private static V1Ingress Build(ServicePlan plan, DeployPort port) => Typed(new V1Ingress
    {
        Metadata = Metadata(plan.Name, plan.Options),
        Spec = new V1IngressSpec
        {
            IngressClassName = plan.Options.IngressClass,
            // The certificate is the operator's (or cert-manager's) Secret; it is never generated here.
            Tls = [new V1IngressTLS { Hosts = [plan.Host], SecretName = plan.Options.TlsSecret }],
            Rules =
            [
                new V1IngressRule
                {
                    Host = plan.Host,
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
                                    Service = new V1IngressServiceBackend { Name = plan.Name, Port = new V1ServiceBackendPort { Name = PortName(port) } },
                                },
                            },
                        ],
                    },
                },
            ],
        },
    });
}
