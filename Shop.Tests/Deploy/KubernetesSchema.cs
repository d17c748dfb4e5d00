using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Shop.Tests.Deploy;

/// <summary>
/// Checks Kubernetes objects, as YAML (what <c>kubectl kustomize</c> renders), against the API schema
/// carried by KubernetesClient's model types, which are generated from the OpenAPI document of the
/// Kubernetes release in <see cref="KubernetesVersion"/>. Every field of every object is walked
/// against its model type: an unknown apiVersion/kind, an unknown (e.g. misspelled) field, a value of
/// the wrong type (read the way kubectl reads YAML: <c>8080</c> is a number, <c>"8080"</c> a string,
/// <c>yes</c> a boolean), an invalid quantity and a missing required field are each reported with
/// their path. Not checked: enumerations (e.g. a misspelled <c>ClusterIP</c>), the API server's
/// cross-field validation and admission; they need a live API server.
/// </summary>
public static partial class KubernetesSchema
{
    /// <summary>The Kubernetes release whose OpenAPI document the model types were generated from.</summary>
    public static string KubernetesVersion => GeneratedModelVersion.SwaggerVersion;

    /// <summary>apiVersion/kind → model type, for every kind the release serves.</summary>
    private static readonly Dictionary<string, Type> Kinds = typeof(V1Pod).Assembly.GetExportedTypes()
        .Select(t => (Type: t, Entity: t.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(e => e.Entity is { Kind.Length: > 0 } && !e.Type.Name.EndsWith("List", StringComparison.Ordinal))
        .GroupBy(e => $"{(e.Entity!.Group is { Length: > 0 } g ? g + "/" : "")}{e.Entity.ApiVersion}/{e.Entity.Kind}")
        .ToDictionary(g => g.Key, g => g.First().Type, StringComparer.Ordinal);

    /// <summary>
    /// Required fields of reference type. The models keep the OpenAPI "required" list only for value
    /// types (a required integer or boolean is non-nullable, which <see cref="Walk"/> enforces); these
    /// are the required fields of the other types the Shop's output uses, from the same API reference.
    /// </summary>
    private static readonly Dictionary<Type, string[]> RequiredReferences = new()
    {
        [typeof(V1Container)] = ["name"],
        [typeof(V1EnvVar)] = ["name"],
        [typeof(V1VolumeMount)] = ["name", "mountPath"],
        [typeof(V1Volume)] = ["name"],
        [typeof(V1PodSpec)] = ["containers"],
        [typeof(V1DeploymentSpec)] = ["selector", "template"],
        [typeof(V1StatefulSetSpec)] = ["selector", "template"],
        [typeof(V1ConfigMapKeySelector)] = ["key"],
        [typeof(V1SecretKeySelector)] = ["key"],
        [typeof(V1HTTPGetAction)] = ["port"],
        [typeof(V1TCPSocketAction)] = ["port"],
        [typeof(V1LabelSelectorRequirement)] = ["key", "operator"],
        [typeof(V1SeccompProfile)] = ["type"],
        [typeof(V2HorizontalPodAutoscalerSpec)] = ["scaleTargetRef"],
        [typeof(V2CrossVersionObjectReference)] = ["kind", "name"],
        [typeof(V2MetricSpec)] = ["type"],
        [typeof(V2ResourceMetricSource)] = ["name", "target"],
        [typeof(V2MetricTarget)] = ["type"],
        [typeof(V1HTTPIngressRuleValue)] = ["paths"],
        [typeof(V1HTTPIngressPath)] = ["pathType", "backend"],
        [typeof(V1IngressServiceBackend)] = ["name"],
    };

    private enum Scalar { Null, Bool, Int, Float, String }

    /// <summary>Every problem in a multi-document YAML stream, each as "Kind name: path: problem"; empty when valid.</summary>
    public static List<string> Validate(string yaml)
    {
        var errors = new List<string>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            return [$"not YAML: {e.Message}"];
        }
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root)
            {
                errors.Add($"a document is not a mapping ({document.RootNode.NodeType})");
                continue;
            }
            var apiVersion = Text(root, "apiVersion");
            var kind = Text(root, "kind");
            var name = root.Children.TryGetValue(new YamlScalarNode("metadata"), out var metadata) && metadata is YamlMappingNode meta
                ? Text(meta, "name")
                : null;
            var where = $"{kind ?? "(no kind)"} {name ?? "(no name)"}";
            if (apiVersion is null || kind is null)
            {
                errors.Add($"{where}: apiVersion and kind are required");
                continue;
            }
            if (!Kinds.TryGetValue($"{apiVersion}/{kind}", out var type))
            {
                errors.Add($"{where}: unknown kind {apiVersion}/{kind} (Kubernetes {KubernetesVersion})");
                continue;
            }
            if (name is null)
            {
                errors.Add($"{where}: metadata.name is required");
            }
            Walk(root, type, "", errors, where);
        }
        return errors;
    }

    private static string? Text(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { Length: > 0 } text } ? text : null;

    private static void Walk(YamlNode node, Type type, string path, List<string> errors, string where)
    {
        void Error(string problem) => errors.Add($"{where}: {(path.Length == 0 ? "(root)" : path)}: {problem}");

        if (node is YamlScalarNode nullScalar && Classify(nullScalar) == Scalar.Null)
        {
            return; // an explicit null is the same as an absent field (required fields are checked by the parent)
        }
        type = Nullable.GetUnderlyingType(type) ?? type;

        if (type == typeof(object))
        {
            return; // free-form (e.g. RawExtension)
        }
        if (type == typeof(IntOrString) || type == typeof(ResourceQuantity))
        {
            if (node is not YamlScalarNode scalar || Classify(scalar) is not (Scalar.Int or Scalar.String or Scalar.Float))
            {
                Error($"expected an integer or a string, got {Describe(node)}");
            }
            else if (type == typeof(ResourceQuantity) && !IsQuantity(scalar.Value!))
            {
                Error($"'{scalar.Value}' is not a valid quantity");
            }
            return;
        }
        if (type == typeof(string) || type == typeof(byte[]) || type == typeof(DateTime))
        {
            if (node is not YamlScalarNode scalar || Classify(scalar) != Scalar.String)
            {
                Error($"expected a string, got {Describe(node)}");
            }
            return;
        }
        if (type == typeof(int) || type == typeof(long))
        {
            if (node is not YamlScalarNode scalar || Classify(scalar) != Scalar.Int)
            {
                Error($"expected an integer, got {Describe(node)}");
            }
            return;
        }
        if (type == typeof(double))
        {
            if (node is not YamlScalarNode scalar || Classify(scalar) is not (Scalar.Int or Scalar.Float))
            {
                Error($"expected a number, got {Describe(node)}");
            }
            return;
        }
        if (type == typeof(bool))
        {
            if (node is not YamlScalarNode scalar || Classify(scalar) != Scalar.Bool)
            {
                Error($"expected a boolean, got {Describe(node)}");
            }
            return;
        }
        if (Generic(type, typeof(IDictionary<,>)) is { } dictionary)
        {
            if (node is not YamlMappingNode map)
            {
                Error($"expected a map, got {Describe(node)}");
                return;
            }
            foreach (var (key, value) in map.Children)
            {
                Walk(value, dictionary[1], $"{path}[{key}]", errors, where);
            }
            return;
        }
        if (Generic(type, typeof(IList<>)) is { } list)
        {
            if (node is not YamlSequenceNode sequence)
            {
                Error($"expected a list, got {Describe(node)}");
                return;
            }
            var index = 0;
            foreach (var item in sequence.Children)
            {
                Walk(item, list[0], $"{path}[{index++}]", errors, where);
            }
            return;
        }
        if (type.Namespace != typeof(V1Pod).Namespace || !type.IsClass)
        {
            Error($"cannot check values of type {type.Name}");
            return;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error($"expected an object ({type.Name}), got {Describe(node)}");
            return;
        }
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Name: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name))
            .Where(p => p.Name is not null)
            .ToDictionary(p => p.Name!, p => p.Property, StringComparer.Ordinal);
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var childPath = path.Length == 0 ? key : $"{path}.{key}";
            if (!properties.TryGetValue(key, out var property))
            {
                errors.Add($"{where}: {childPath}: unknown field (not in {type.Name})");
                continue;
            }
            if (!(value is YamlScalarNode s && Classify(s) == Scalar.Null))
            {
                present.Add(key);
            }
            Walk(value, property.PropertyType, childPath, errors, where);
        }
        var required = properties
            .Where(p => p.Value.PropertyType is { IsValueType: true } t && Nullable.GetUnderlyingType(t) is null && t.IsPrimitive)
            .Select(p => p.Key)
            .Concat(RequiredReferences.GetValueOrDefault(type, []));
        foreach (var field in required.Where(f => !present.Contains(f)))
        {
            errors.Add($"{where}: {(path.Length == 0 ? field : $"{path}.{field}")}: missing required field");
        }
    }

    private static Type[]? Generic(Type type, Type definition) =>
        (type.IsGenericType && type.GetGenericTypeDefinition() == definition ? type : null)?.GetGenericArguments()
        ?? type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition)?.GetGenericArguments();

    private static bool IsQuantity(string text)
    {
        try
        {
            _ = new ResourceQuantity(text).ToDecimal();
            return QuantityFormat().IsMatch(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => $"{Classify(s).ToString().ToLowerInvariant()} {(s.Style is ScalarStyle.Plain ? s.Value : $"\"{s.Value}\"")}",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a map",
        _ => node.NodeType.ToString(),
    };

    /// <summary>
    /// A scalar's type as kubectl reads YAML (sigs.k8s.io/yaml, YAML 1.1 rules): quoted text is a
    /// string; plain <c>yes</c>/<c>on</c>/<c>true</c> are booleans, <c>8080</c> an integer, <c>~</c> null.
    /// </summary>
    private static Scalar Classify(YamlScalarNode scalar)
    {
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            return Scalar.String;
        }
        var text = scalar.Value ?? "";
        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => Scalar.Null,
            "y" or "Y" or "yes" or "Yes" or "YES" or "n" or "N" or "no" or "No" or "NO" or "true" or "True" or "TRUE"
                or "false" or "False" or "FALSE" or "on" or "On" or "ON" or "off" or "Off" or "OFF" => Scalar.Bool,
            _ when IntegerFormat().IsMatch(text) => Scalar.Int,
            _ when FloatFormat().IsMatch(text) => Scalar.Float,
            _ => Scalar.String,
        };
    }

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$")]
    private static partial Regex IntegerFormat();

    [GeneratedRegex(@"^([-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex FloatFormat();

    /// <summary>Kubernetes' quantity grammar: a signed decimal number, then a binary/decimal SI suffix or an exponent.</summary>
    [GeneratedRegex(@"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")]
    private static partial Regex QuantityFormat();
}
