using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// The Kubernetes output as <c>kubectl apply -k</c> would send it (<c>kubectl kustomize</c>, offline),
/// every object checked against the Kubernetes API schema (<see cref="KubernetesSchema"/>); and proof
/// that the check fails on a broken manifest.
/// </summary>
[Collection(PublishCollection.Name)]
public sealed class KubernetesValidationTests(PublishOutput output)
{
    [Fact]
    public void Every_rendered_object_is_valid_for_the_Kubernetes_API()
    {
        foreach (var directory in (string[])[output.KubernetesDirectory, output.KubernetesOptionsDirectory])
        {
            var rendered = output.Rendered(directory);
            var errors = KubernetesSchema.Validate(rendered);
            Assert.True(errors.Count == 0, $"{directory}: {errors.Count} schema errors (Kubernetes {KubernetesSchema.KubernetesVersion}):\n{string.Join('\n', errors)}");
            // Namespace, default deny, Secret, ConfigMaps, and per service its workload, Service, NetworkPolicy, ….
            Assert.True(rendered.Split("\n---\n").Length >= 45, "fewer objects rendered than expected");
        }
    }

    /// <summary>
    /// A copy of the published output with one key misspelled in a manifest: kustomize still renders
    /// it (it does not know the schema), the validator rejects it and names the field.
    /// </summary>
    [Fact]
    public void A_misspelled_field_in_a_published_manifest_is_rejected()
    {
        var copy = output.CopyOf(output.KubernetesDirectory);
        var manifest = Path.Combine(copy, "users.yaml");
        var text = File.ReadAllText(manifest);
        Assert.Contains("readinessProbe:", text);
        File.WriteAllText(manifest, text.Replace("readinessProbe:", "readinesProbe:", StringComparison.Ordinal));

        var (exitCode, rendered, error) = PublishOutput.Kustomize(copy);
        Assert.True(exitCode == 0, error);
        var errors = KubernetesSchema.Validate(rendered);
        Assert.Contains(errors, e => e.StartsWith("Deployment users: spec.template.spec.containers[0].readinesProbe: unknown field", StringComparison.Ordinal));
    }

    /// <summary>One field broken at a time in the real rendered output; each must be rejected with its path.</summary>
    [Theory]
    [InlineData("containerPort: 8080", "containerPort: \"8080\"", "ports[0].containerPort: expected an integer, got string \"8080\"")]
    [InlineData("containerPort: 8080", "hostPort: 8080", "ports[0].containerPort: missing required field")]
    [InlineData("kind: Deployment", "kind: Deploymnt", "unknown kind apps/v1/Deploymnt")]
    [InlineData("apiVersion: apps/v1", "apiVersion: apps/v1beta1", "unknown kind apps/v1beta1/")]
    [InlineData("memory: 512Mi", "memory: 512MB", "'512MB' is not a valid quantity")]
    [InlineData("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: \"true\"", "readOnlyRootFilesystem: expected a boolean, got string \"true\"")]
    [InlineData("mountPath: /tmp", "subPath: tmp", "mountPath: missing required field")]
    [InlineData("HTTP_PORTS: \"8080\"", "HTTP_PORTS: 8080", "data[HTTP_PORTS]: expected a string, got int 8080")]
    public void A_broken_field_is_rejected(string field, string broken, string expected)
    {
        var rendered = output.Rendered(output.KubernetesDirectory);
        var index = rendered.IndexOf(field, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{field}' not in the rendered output");
        var mutated = string.Concat(rendered.AsSpan(0, index), broken, rendered.AsSpan(index + field.Length));

        var error = Assert.Single(KubernetesSchema.Validate(mutated));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
