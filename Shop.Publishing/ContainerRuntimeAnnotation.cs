using Aspire.Hosting.ApplicationModel;

namespace Shop.Publishing;

/// <summary>
/// What a hardened deployment must know about an image that the app model does not say: the numeric
/// user and group it runs as (Kubernetes can check <c>runAsNonRoot</c> only against a number, so an
/// image whose USER is a name, or root, needs one given), and the directories its processes write
/// to outside their data volumes (each gets an <c>emptyDir</c>: the root filesystem is read-only).
/// Declare it where the image is chosen, so the two stay consistent.
/// </summary>
public sealed record ContainerRuntimeAnnotation(long User, long Group, IReadOnlyList<string> WritablePaths) : IResourceAnnotation;

public static class ContainerRuntimeExtensions
{
    public static IResourceBuilder<T> WithContainerRuntime<T>(this IResourceBuilder<T> builder, long user, long group, params string[] writablePaths)
        where T : IResource =>
        builder.WithAnnotation(new ContainerRuntimeAnnotation(user, group, writablePaths), ResourceAnnotationMutationBehavior.Replace);
}

/// <summary>
/// An HTTP path a container answers when it is ready (for images whose probe the conventions cannot
/// infer: without it a container gets only a TCP probe, which compose cannot express).
/// </summary>
public sealed record DeploymentHttpProbeAnnotation(string Path) : IResourceAnnotation;

public static class DeploymentProbeExtensions
{
    public static IResourceBuilder<T> WithDeploymentHttpProbe<T>(this IResourceBuilder<T> builder, string path) where T : IResource =>
        builder.WithAnnotation(new DeploymentHttpProbeAnnotation(path), ResourceAnnotationMutationBehavior.Replace);
}

/// <summary>
/// The memory a container asks for (what the scheduler reserves on a node) and may use (beyond it the kernel
/// kills it) in a deployment, as Kubernetes quantities (<c>320Mi</c>). Declare it where the resource is added,
/// from its measured peak; a container without one gets <c>Shop:Publish:MemoryRequest</c>/<c>MemoryLimit</c>.
/// </summary>
public sealed record DeploymentMemoryAnnotation(string Request, string Limit) : IResourceAnnotation;

public static class DeploymentMemoryExtensions
{
    public static IResourceBuilder<T> WithDeploymentMemory<T>(this IResourceBuilder<T> builder, string request, string limit) where T : IResource =>
        builder.WithAnnotation(new DeploymentMemoryAnnotation(request, limit), ResourceAnnotationMutationBehavior.Replace);
}
