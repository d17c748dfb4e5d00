using System.Reflection;
using k8s;
using k8s.Models;

namespace Shop.Publishing;

/// <summary>What every object builder uses: metadata, apiVersion/kind, ports by name, serialization.</summary>
internal static class KubernetesObjects
{
    public static V1ObjectMeta Metadata(string name, PublishOptions options, bool nameLabel = true) => new()
    {
        Name = name,
        NamespaceProperty = options.Namespace,
        Labels = nameLabel
            ? new Dictionary<string, string> { [KubernetesWriter.NameLabel] = name, [KubernetesWriter.PartOfLabel] = "shop" }
            : new Dictionary<string, string> { [KubernetesWriter.PartOfLabel] = "shop" },
    };

    /// <summary>Sets apiVersion and kind from the model type's Kubernetes entity attribute.</summary>
    public static T Typed<T>(T o) where T : IKubernetesObject
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a Kubernetes kind.");
        o.ApiVersion = entity.Group is { Length: > 0 } group ? $"{group}/{entity.ApiVersion}" : entity.ApiVersion;
        o.Kind = entity.Kind;
        return o;
    }

    /// <summary>Port names are at most 15 characters (IANA service names).</summary>
    public static string PortName(DeployPort port) => port.Name.Length <= 15 ? port.Name : port.Name[..15];

    /// <summary>The port of the Service: the target port, or the published one for an external endpoint.</summary>
    public static int ServicePort(DeployPort port) => port.External ? port.PublishedPort ?? port.TargetPort : port.TargetPort;

    /// <summary>Documents of one file, separated by <c>---</c>.</summary>
    public static string SerializeAll(IEnumerable<IKubernetesObject> objects) =>
        string.Join("---\n", objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd('\n') + "\n"));
}
