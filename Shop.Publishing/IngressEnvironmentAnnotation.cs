using Aspire.Hosting.ApplicationModel;

namespace Shop.Publishing;

/// <summary>
/// A setting a service gets only where the deployment puts a proxy of its own in front of it: the Kubernetes
/// output's Ingress controller, for a service with an external HTTP port. The compose output publishes that
/// port itself, so there the setting is left out (for example which networks may name the client's address:
/// behind the controller, the controller's; at the edge, nobody's).
/// </summary>
public sealed record IngressEnvironmentAnnotation(string Name, string Value) : IResourceAnnotation;

public static class IngressEnvironmentExtensions
{
    public static IResourceBuilder<T> WithIngressEnvironment<T>(this IResourceBuilder<T> builder, string name, string value) where T : IResource =>
        builder.WithAnnotation(new IngressEnvironmentAnnotation(name, value));
}
