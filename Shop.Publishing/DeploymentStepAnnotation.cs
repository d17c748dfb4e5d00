using Aspire.Hosting.ApplicationModel;

namespace Shop.Publishing;

/// <summary>
/// Work a deployment runs to completion before the resource starts, in the resource's own image with
/// other arguments and only the given environment (e.g. the service's migrations, with the credential
/// the service itself must not hold). Compose: a one-shot service <c>&lt;resource&gt;-&lt;name&gt;</c> that the
/// resource waits for with <c>service_completed_successfully</c>; Kubernetes: an init container
/// <c>&lt;name&gt;</c> of every pod. Run mode ignores it.
/// </summary>
/// <param name="Environment">Values as for <c>WithEnvironment</c>: strings, parameters, reference expressions.</param>
public sealed record DeploymentStepAnnotation(string Name, IReadOnlyList<string> Args, IReadOnlyDictionary<string, object> Environment) : IResourceAnnotation;

public static class DeploymentStepExtensions
{
    public static IResourceBuilder<T> WithDeploymentStep<T>(this IResourceBuilder<T> builder, string name, IReadOnlyList<string> args, IReadOnlyDictionary<string, object> environment)
        where T : IResource =>
        builder.WithAnnotation(new DeploymentStepAnnotation(name, args, environment));
}
