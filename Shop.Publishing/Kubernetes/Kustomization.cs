namespace Shop.Publishing;

/// <summary><c>kustomization.yaml</c> (kustomize's own kind; KubernetesClient has no model for it).</summary>
internal sealed record Kustomization
{
    public string ApiVersion { get; } = "kustomize.config.k8s.io/v1beta1";
    public string Kind { get; } = "Kustomization";
    public required string Namespace { get; init; }
    public required IReadOnlyList<string> Resources { get; init; }
    public required IReadOnlyList<KustomizeGenerator> ConfigMapGenerator { get; init; }
    public required IReadOnlyList<KustomizeGenerator> SecretGenerator { get; init; }
    public required IReadOnlyList<KustomizeReplacement> Replacements { get; init; }
    public required IReadOnlyList<KustomizeLabels> Labels { get; init; }

    /// <summary>
    /// A replacement that reads <c>data.KEY</c> of a generated Secret, which fails the build when the
    /// Secret's file lacks the key; its target kind matches no object, so no value is copied anywhere.
    /// </summary>
    public static KustomizeReplacement RequiredSecretKey(string secret, string key) => new(
        new KustomizeSource("Secret", secret, $"data.{key}"),
        [new KustomizeTarget(new KustomizeSelect("ShopRequiredSecretKey"), [$"data.{key}"])]);
}

/// <summary>A configMapGenerator or secretGenerator entry: its name gets a hash of its content.</summary>
internal sealed record KustomizeGenerator(string Name, IReadOnlyList<string> Envs, KustomizeGeneratorOptions? Options = null);

internal sealed record KustomizeGeneratorOptions(IReadOnlyDictionary<string, string> Labels);

internal sealed record KustomizeReplacement(KustomizeSource Source, IReadOnlyList<KustomizeTarget> Targets);

internal sealed record KustomizeSource(string Kind, string Name, string FieldPath);

internal sealed record KustomizeTarget(KustomizeSelect Select, IReadOnlyList<string> FieldPaths);

internal sealed record KustomizeSelect(string Kind);

internal sealed record KustomizeLabels(IReadOnlyDictionary<string, string> Pairs);
