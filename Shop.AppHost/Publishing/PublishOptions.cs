using Microsoft.Extensions.Configuration;

namespace Shop.AppHost.Publishing;

/// <summary>
/// Deployment knobs, from the AppHost's configuration (<c>Shop:Publish:*</c>; command line
/// <c>--Shop:Publish:Registry=ghcr.io/acme</c> or environment <c>Shop__Publish__Registry</c>).
/// </summary>
public sealed record PublishOptions(
    string Registry,
    string Tag,
    string Namespace,
    string StorageSize,
    string CpuRequest,
    string MemoryRequest,
    string CpuLimit,
    string MemoryLimit,
    string RuntimeIdentifier = PublishOptions.DefaultRuntimeIdentifier)
{
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
        return new PublishOptions(
            Registry: Get("Registry", "shop").TrimEnd('/'),
            Tag: Get("Tag", "latest"),
            Namespace: Get("Namespace", "shop"),
            StorageSize: Get("StorageSize", "1Gi"),
            CpuRequest: Get("CpuRequest", "100m"),
            MemoryRequest: Get("MemoryRequest", "256Mi"),
            CpuLimit: Get("CpuLimit", "1"),
            MemoryLimit: Get("MemoryLimit", "512Mi"),
            RuntimeIdentifier: Get("RuntimeIdentifier", DefaultRuntimeIdentifier));
    }

    /// <summary>The image of a service built here (a .NET project or a Dockerfile): <c>&lt;registry&gt;/&lt;name&gt;:&lt;tag&gt;</c>.</summary>
    public string ImageFor(string serviceName) => $"{Registry}/{serviceName}:{Tag}";

    /// <summary>The repository part of <see cref="ImageFor"/>.</summary>
    public string RepositoryFor(string serviceName) => $"{Registry}/{serviceName}";
}
