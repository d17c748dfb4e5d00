using k8s.Models;

namespace Shop.Publishing;

/// <summary>
/// What the builders of one service's objects share: the service, the deployment it is part of, and
/// the pieces worked out once (its labels, its environment split into ConfigMap data and variables,
/// its writable and file-backed volumes).
/// </summary>
internal sealed class ServicePlan
{
    public ServicePlan(DeployService service, DeploymentModel model, PublishOptions options, string host)
    {
        Service = service;
        Model = model;
        Options = options;
        Host = host;
        Labels = new Dictionary<string, string> { [KubernetesWriter.NameLabel] = service.Name };
        Environment = ContainerBuilder.EnvironmentVariables(service.Environment, PlainEnvironment);
        if (IngressBuilder.Port(service) is not null)
        {
            foreach (var (name, value) in service.IngressEnvironment)
            {
                PlainEnvironment[name] = value;
            }
        }
        // Read-only root filesystem: the image's writable directories are emptyDir volumes.
        Scratch = [.. service.Runtime.WritablePaths.Select(p => new ScratchDirectory(p, VolumeName(p)))];
        // The service's files: a ConfigMap per directory, mounted read-only there.
        FileDirectories =
        [
            .. service.Files.GroupBy(f => f.Directory)
                .Select(g => new FileDirectory(g.Key, VolumeName(g.Key), $"{service.Name}-{VolumeName(g.Key)}", [.. g])),
        ];
    }

    public DeployService Service { get; }
    public DeploymentModel Model { get; }
    public PublishOptions Options { get; }

    /// <summary>The host name its Ingress serves, if it has an external HTTP port.</summary>
    public string Host { get; }

    public string Name => Service.Name;

    /// <summary>The pod labels its selectors match.</summary>
    public Dictionary<string, string> Labels { get; }

    /// <summary>Literal settings: the data of the generated ConfigMap <see cref="EnvironmentConfigMap"/>, read by the container with <c>envFrom</c>.</summary>
    public Dictionary<string, string> PlainEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>Variables from parameters (their Secrets, the parameters ConfigMap) and composites of them.</summary>
    public List<V1EnvVar> Environment { get; }

    public string EnvironmentConfigMap => $"{Service.Name}-env";

    public IReadOnlyList<ScratchDirectory> Scratch { get; }

    public IReadOnlyList<FileDirectory> FileDirectories { get; }

    /// <summary><c>/var/run/postgresql</c> → <c>var-run-postgresql</c>.</summary>
    public static string VolumeName(string path) =>
        new([.. path.Trim('/').Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-')]);
}

/// <summary>A directory the image writes to, as an emptyDir volume.</summary>
internal sealed record ScratchDirectory(string Path, string Volume);

/// <summary>A directory of the service's files, as a ConfigMap mounted read-only.</summary>
internal sealed record FileDirectory(string Path, string Volume, string ConfigMap, IReadOnlyList<DeployFile> Files);
