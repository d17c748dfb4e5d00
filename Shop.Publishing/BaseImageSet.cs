using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Shop.Publishing;

/// <summary>
/// Every image a deployment starts from that the Shop does not build itself: PostgreSQL, Redis, the
/// ASP.NET Core runtime under the .NET services, and Node + nginx for the SPA. One setting chooses the
/// set (<see cref="ConfigurationKey"/>): the official images (default), or <c>local</c>, the Debian-based
/// images that <c>scripts/container-platform/platform.sh</c> builds into a registry on localhost:5000
/// for machines where no public registry answers (the deployment test). Generated files are never edited.
/// </summary>
/// <param name="AspNetBaseImage">The SDK's <c>ContainerBaseImage</c>; null: the SDK's own choice for <see cref="ContainerFamily"/>.</param>
/// <param name="ContainerFamily">The SDK's <c>ContainerFamily</c>, used when <see cref="AspNetBaseImage"/> is null.</param>
/// <param name="RuntimeIdentifier">The platform the .NET services are built for: the base image's libc.</param>
/// <param name="WebBuildArgs">Build arguments of <c>Shop.Web/Dockerfile</c> (none: its own defaults, the official images).</param>
public sealed record BaseImageSet(
    string Name,
    string? PostgresRegistry,
    string PostgresImage,
    string PostgresTag,
    string? RedisRegistry,
    string RedisImage,
    string RedisTag,
    string? AspNetBaseImage,
    string? ContainerFamily,
    string RuntimeIdentifier,
    IReadOnlyDictionary<string, string> WebBuildArgs)
{
    public const string ConfigurationKey = "Shop:Publish:BaseImages";

    /// <summary>The registry and repository prefix of the locally built set.</summary>
    public const string LocalPrefix = "localhost:5000/shop-local";

    /// <summary>
    /// docker.io's Alpine images (Aspire adds the registry), pinned to the majors the tests run against
    /// (and the original design names).
    /// </summary>
    public static readonly BaseImageSet Official = new(
        "official",
        null, "library/postgres", "15-alpine",
        null, "library/redis", "7-alpine",
        AspNetBaseImage: null, ContainerFamily: "alpine", RuntimeIdentifier: "linux-musl-x64",
        WebBuildArgs: new Dictionary<string, string>());

    /// <summary>
    /// Debian bookworm (glibc, so <c>linux-x64</c>), same users, ports, paths and entrypoint contracts as
    /// the official images (scripts/container-platform/images/*).
    /// </summary>
    public static readonly BaseImageSet Local = new(
        "local",
        "localhost:5000", "shop-local/postgres", "15",
        "localhost:5000", "shop-local/redis", "7",
        AspNetBaseImage: $"{LocalPrefix}/aspnet:10.0", ContainerFamily: null, RuntimeIdentifier: "linux-x64",
        WebBuildArgs: new Dictionary<string, string>
        {
            ["NODE_IMAGE"] = $"{LocalPrefix}/node:20",
            ["NGINX_IMAGE"] = $"{LocalPrefix}/nginx:1.27",
        });

    public static BaseImageSet From(IConfiguration configuration) =>
        configuration[ConfigurationKey]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "official" => Official,
            "local" => Local,
            var other => throw new InvalidOperationException($"{ConfigurationKey}={other}: expected 'official' (default) or 'local'."),
        };
}

public static class BaseImageRegistryExtensions
{
    /// <summary>Keeps Aspire's default registry (docker.io) unless the set names one.</summary>
    public static IResourceBuilder<T> WithRegistry<T>(this IResourceBuilder<T> builder, string? registry) where T : ContainerResource =>
        registry is null ? builder : builder.WithImageRegistry(registry);
}
