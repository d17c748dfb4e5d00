using Microsoft.Extensions.Configuration;

namespace Shop.Publishing;

/// <summary>
/// Deployment knobs, from the AppHost's configuration (<c>Shop:Publish:*</c>; command line
/// <c>--Shop:Publish:Registry=ghcr.io/acme</c> or environment <c>Shop__Publish__Registry</c>).
/// </summary>
/// <param name="ImagePullSecret">Kubernetes: the docker-registry Secret (the operator's) that the pods of the images built here
/// pull with, for a registry that needs credentials; null: none.</param>
public sealed record PublishOptions(
    string Registry,
    string Tag,
    string Namespace,
    string StorageSize,
    string CpuRequest,
    string MemoryRequest,
    string CpuLimit,
    string MemoryLimit,
    string RuntimeIdentifier = PublishOptions.DefaultRuntimeIdentifier,
    string IngressHost = PublishOptions.DefaultIngressHost,
    string TlsSecret = PublishOptions.DefaultTlsSecret,
    string? IngressClass = null,
    string? IngressControllerNamespace = null,
    int MinReplicas = 2,
    int MaxReplicas = 10,
    int CpuUtilization = 70,
    BaseImageSet? BaseImages = null,
    string? TlsCertificate = null,
    string? TlsKey = null,
    int HttpsPort = PublishOptions.DefaultHttpsPort,
    bool ReadyToRun = true,
    string? ImagePullSecret = null)
{
    /// <summary>
    /// Whether <see cref="Registry"/> / <see cref="Tag"/> were given (<c>Shop:Publish:Registry</c> / <c>Tag</c>) rather than
    /// the defaults: a compose output's <c>.env</c> keeps the ones the operator set there otherwise (<see cref="KeepingImageNames"/>).
    /// </summary>
    public bool RegistryConfigured { get; init; } = true;
    public bool TagConfigured { get; init; } = true;

    /// <summary>
    /// The registry and tag of an output's <c>.env</c> (<see cref="RegistryVariable"/>, <see cref="TagVariable"/>, where
    /// docs/deploy.md has the operator override them) for those not given to this publish, so publishing again
    /// to change something else does not put the defaults back.
    /// </summary>
    public PublishOptions KeepingImageNames(IReadOnlyDictionary<string, string> env) => this with
    {
        Registry = !RegistryConfigured && env.TryGetValue(RegistryVariable, out var registry) && registry.Trim() is { Length: > 0 } r ? r.TrimEnd('/') : Registry,
        Tag = !TagConfigured && env.TryGetValue(TagVariable, out var tag) && tag.Trim() is { Length: > 0 } t ? t : Tag,
    };

    /// <summary>The images the deployment starts from (<see cref="BaseImageSet.ConfigurationKey"/>).</summary>
    public BaseImageSet Images => BaseImages ?? BaseImageSet.Official;

    /// <summary>Compose: the gateway serves HTTPS when a certificate and key are given.</summary>
    public bool Tls => TlsCertificate is not null;

    public const int DefaultHttpsPort = 8443;

    /// <summary>Kubernetes: the pods a rolling update starts above the replica count, in percent (Kubernetes' default).</summary>
    public const int RolloutSurgePercent = 25;

    /// <summary>The pods a rollout of <paramref name="replicas"/> may add: Kubernetes rounds the surge up.</summary>
    public static int RolloutSurge(int replicas) => (replicas * RolloutSurgePercent + 99) / 100;

    /// <summary>
    /// The autoscaler's bounds for a service the app model runs <paramref name="replicas"/> of: at least those, and
    /// a maximum raised to the minimum when configured below it. Its maximum is what the databases' connections count.
    /// </summary>
    public (int Min, int Max) AutoscalerReplicas(int replicas)
    {
        var min = Math.Max(MinReplicas, replicas);
        return (min, Math.Max(MaxReplicas, min));
    }

    /// <summary>The memory a service's container may use: its own figure (its measured peak's) or the default.</summary>
    public string MemoryLimitOf(DeployService service) => service.Memory?.Limit ?? MemoryLimit;

    /// <summary>The host name the Ingress serves the gateway on (Kubernetes).</summary>
    public const string DefaultIngressHost = "shop.example.com";

    /// <summary>The Secret (type kubernetes.io/tls, the operator's or cert-manager's) holding the Ingress certificate.</summary>
    public const string DefaultTlsSecret = "shop-tls";

    /// <summary>The images are Alpine (musl) on x64; <c>linux-musl-arm64</c> builds them for ARM nodes.</summary>
    public const string DefaultRuntimeIdentifier = "linux-musl-x64";

    public const string Section = "Shop:Publish";

    /// <summary>Compose variables that override the registry and tag at <c>docker compose up</c> time.</summary>
    public const string RegistryVariable = "SHOP_REGISTRY";
    public const string TagVariable = "SHOP_TAG";

    public static PublishOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        string Get(string key, string fallback) => section[key] is { Length: > 0 } value ? value : fallback;
        var images = BaseImageSet.From(configuration);
        string? certificate = section["TlsCertificate"] is { Length: > 0 } c ? c : null, key = section["TlsKey"] is { Length: > 0 } k ? k : null;
        if ((certificate is null) != (key is null))
        {
            throw new InvalidOperationException($"{Section}:TlsCertificate and {Section}:TlsKey go together: give both or neither.");
        }
        return new PublishOptions(
            Registry: Get("Registry", "shop").TrimEnd('/'),
            Tag: Get("Tag", "latest"),
            Namespace: Get("Namespace", "shop"),
            StorageSize: Get("StorageSize", "1Gi"),
            CpuRequest: Get("CpuRequest", "100m"),
            MemoryRequest: Get("MemoryRequest", "256Mi"),
            CpuLimit: Get("CpuLimit", "1"),
            MemoryLimit: Get("MemoryLimit", "512Mi"),
            // The base image's libc decides the platform unless one is named.
            RuntimeIdentifier: Get("RuntimeIdentifier", images.RuntimeIdentifier),
            IngressHost: Get("IngressHost", DefaultIngressHost),
            TlsSecret: Get("TlsSecret", DefaultTlsSecret),
            IngressClass: section["IngressClass"] is { Length: > 0 } ingressClass ? ingressClass : null,
            IngressControllerNamespace: section["IngressControllerNamespace"] is { Length: > 0 } controller ? controller : null,
            MinReplicas: Math.Max(1, section.GetValue("MinReplicas", 2)),
            MaxReplicas: section.GetValue("MaxReplicas", 10),
            CpuUtilization: section.GetValue("CpuUtilization", 70),
            BaseImages: images,
            TlsCertificate: certificate,
            TlsKey: key,
            HttpsPort: section.GetValue("HttpsPort", DefaultHttpsPort),
            ReadyToRun: section.GetValue("ReadyToRun", true),
            ImagePullSecret: section["ImagePullSecret"] is { Length: > 0 } pullSecret ? pullSecret : null)
        {
            RegistryConfigured = section["Registry"] is { Length: > 0 },
            TagConfigured = section["Tag"] is { Length: > 0 },
        };
    }

    /// <summary>The image of a service built here (a .NET project or a Dockerfile): <c>&lt;registry&gt;/&lt;name&gt;:&lt;tag&gt;</c>.</summary>
    public string ImageFor(string serviceName) => $"{Registry}/{serviceName}:{Tag}";

    /// <summary>The repository part of <see cref="ImageFor"/>.</summary>
    public string RepositoryFor(string serviceName) => $"{Registry}/{serviceName}";
}
