using System.Globalization;
using static Shop.Publishing.YamlOutput;

namespace Shop.Publishing;

/// <summary>
/// Writes <c>docker-compose.yaml</c> (a typed <see cref="ComposeFile"/>; no secret values: every
/// parameter is a <c>${KEY}</c> read from <c>.env</c>), <c>.env</c> with the values, <c>.env.example</c> with the keys, a <c>.gitignore</c>,
/// and the files services mount (<c>&lt;service&gt;/&lt;file&gt;</c>, e.g. the databases' role scripts).
/// </summary>
public static class ComposeWriter
{
    public const string FileName = "docker-compose.yaml";
    public const string EnvFileName = ".env";
    public const string EnvExampleFileName = ".env.example";
    public const string Network = "msnet";

    /// <summary>.env keys naming the gateway's certificate and key files (with --Shop:Publish:TlsCertificate/TlsKey).</summary>
    public const string TlsCertificateVariable = "SHOP_TLS_CERTIFICATE";
    public const string TlsKeyVariable = "SHOP_TLS_KEY";

    /// <summary>Where the certificate and key are mounted in the gateway, and its HTTPS port inside the network.</summary>
    public const string TlsCertificatePath = "/run/tls/tls.crt";
    public const string TlsKeyPath = "/run/tls/tls.key";
    public const int HttpsTargetPort = 8443;

    public static void Write(DeploymentModel model, IReadOnlyDictionary<string, string> values, PublishOptions options, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        foreach (var service in model.Services)
        {
            WriteFiles(service, outputDirectory);
        }
        WriteFile(Path.Combine(outputDirectory, FileName),
            "Generated from the Shop AppHost model (./shop publish compose). Secrets come from .env.",
            Serialize(Compose(model, options, outputDirectory)));

        var keys = UsedKeys(model).ToList();
        var tls = options.Tls
            ? "# The gateway's TLS certificate and key (PEM files on the Docker host; the key readable by uid 1654).\n" +
              $"{TlsCertificateVariable}={EnvFile.ComposeValue(TlsCertificateVariable, Path.GetFullPath(options.TlsCertificate!))}\n{TlsKeyVariable}={EnvFile.ComposeValue(TlsKeyVariable, Path.GetFullPath(options.TlsKey!))}\n"
            : "";
        WriteSecretFile(Path.Combine(outputDirectory, EnvFileName),
            "# Secrets and parameters for docker-compose.yaml. Never commit this file.\n" +
            $"# Image registry/tag of the Shop's own images (defaults: {options.Registry} / {options.Tag}).\n" +
            $"{PublishOptions.RegistryVariable}={options.Registry}\n{PublishOptions.TagVariable}={options.Tag}\n" +
            tls +
            string.Concat(keys.Select(k => $"{k}={EnvFile.ComposeValue(k, values[k])}\n")));
        File.WriteAllText(Path.Combine(outputDirectory, EnvExampleFileName),
            "# Copy to .env and fill in (./shop publish compose generates one).\n" +
            $"{PublishOptions.RegistryVariable}=\n{PublishOptions.TagVariable}=\n" +
            (options.Tls ? $"{TlsCertificateVariable}=\n{TlsKeyVariable}=\n" : "") +
            string.Concat(keys.Select(k => $"{k}=\n")));
        WriteGitIgnore(outputDirectory, EnvFileName);
    }

    /// <summary>The compose file: each service after its steps' one-shot services, one network, the named volumes.</summary>
    internal static ComposeFile Compose(DeploymentModel model, PublishOptions options, string outputDirectory)
    {
        var services = new Dictionary<string, ComposeService>(StringComparer.Ordinal);
        var volumes = new Dictionary<string, ComposeVolume>(StringComparer.Ordinal);
        foreach (var service in model.Services)
        {
            foreach (var step in service.Steps)
            {
                services[StepServiceName(service, step)] = StepService(service, step, model, options);
            }
            services[service.Name] = Service(service, model, options, outputDirectory);
            foreach (var volume in service.Volumes)
            {
                volumes[volume.Name] = new ComposeVolume();
            }
        }
        return new ComposeFile
        {
            Name = options.Namespace,
            Services = services,
            Networks = new Dictionary<string, ComposeNetwork> { [Network] = new("bridge") },
            Volumes = volumes.Count > 0 ? volumes : null,
        };
    }

    /// <summary><c>users</c>'s step <c>migrate</c> → the one-shot service <c>users-migrate</c>.</summary>
    public static string StepServiceName(DeployService service, DeployStep step) => $"{service.Name}-{step.Name}";

    /// <summary>Where a service's files are written, next to docker-compose.yaml (bind-mounted read-only).</summary>
    public static string FilePath(DeployService service, DeployFile file) => $"{service.Name}/{file.FileName}";

    private static void WriteFiles(DeployService service, string outputDirectory)
    {
        if (service.Files.GroupBy(f => f.FileName).FirstOrDefault(g => g.Count() > 1) is { } clash)
        {
            throw new NotSupportedException($"Service '{service.Name}' has two files named {clash.Key}.");
        }
        foreach (var file in service.Files)
        {
            var path = Path.Combine(outputDirectory, FilePath(service, file));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file.Content);
            if (!OperatingSystem.IsWindows())
            {
                // Readable by the container's own user, whatever uid that is.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }
    }

    private static string Image(DeployService service, PublishOptions options) => service.Kind == ServiceKind.Container
        ? service.Image
        : $"${{{PublishOptions.RegistryVariable}:-{options.Registry}}}/{service.Name}:${{{PublishOptions.TagVariable}:-{options.Tag}}}";

    /// <summary>
    /// A step as a one-shot service of the same image: only its own arguments and environment, started
    /// once its dependencies are healthy, never restarted.
    /// </summary>
    internal static ComposeService StepService(DeployService service, DeployStep step, DeploymentModel model, PublishOptions options) => Hardened(service, options, ["/tmp"]) with
    {
        Command = [.. step.Args.Select(Interpolate)],
        Environment = step.Environment.Count > 0 ? step.Environment.ToDictionary(e => e.Key, e => Interpolate(e.Value)) : null,
        DependsOn = step.DependsOn.Count > 0 ? step.DependsOn.ToDictionary(d => d, d => DependsOnCondition(model, d)) : null,
        // No restart policy (compose's default, "no"): a step that fails stays failed, and its service does not start.
    };

    private static ComposeDependency DependsOnCondition(DeploymentModel model, string dependency) =>
        new(HealthCheck(model.Services.Single(s => s.Name == dependency).Readiness) is null ? "service_started" : "service_healthy");

    internal static ComposeService Service(DeployService service, DeploymentModel model, PublishOptions options, string outputDirectory)
    {
        var published = service.Ports.Where(p => p.PublishedPort is not null).ToList();
        // The edge (a .NET service with a published port) terminates TLS when a certificate is given.
        var tls = options.Tls && service.Kind == ServiceKind.Project && published.Count > 0;
        var environment = service.Environment.ToDictionary(e => e.Key, e => Interpolate(e.Value));
        var ports = published.Select(p => $"{p.PublishedPort}:{p.TargetPort}").ToList();
        var mounts = service.Volumes.Select(v => $"{v.Name}:{v.Target}{(v.ReadOnly ? ":ro" : "")}").ToList();
        mounts.AddRange(service.Files.Select(f => $"./{FilePath(service, f)}:{f.Path}:ro"));
        if (tls)
        {
            var http = published.First(p => p.Scheme == "http");
            // Kestrel endpoints replace HTTP_PORTS: plain HTTP stays for the health checks and the
            // redirect; the gateway turns on redirection and HSTS when an https endpoint exists.
            environment["Kestrel__Endpoints__http__Url"] = $"http://+:{http.TargetPort}";
            environment["Kestrel__Endpoints__https__Url"] = $"https://+:{HttpsTargetPort}";
            environment["Kestrel__Endpoints__https__Certificate__Path"] = TlsCertificatePath;
            environment["Kestrel__Endpoints__https__Certificate__KeyPath"] = TlsKeyPath;
            // The port browsers are redirected to: the one published on the host.
            environment["ASPNETCORE_HTTPS_PORT"] = options.HttpsPort.ToString(CultureInfo.InvariantCulture);
            ports.Add($"{options.HttpsPort}:{HttpsTargetPort}");
            mounts.Add($"${{{TlsCertificateVariable}:?{TlsCertificateVariable} is not set in .env}}:{TlsCertificatePath}:ro");
            mounts.Add($"${{{TlsKeyVariable}:?{TlsKeyVariable} is not set in .env}}:{TlsKeyPath}:ro");
        }
        var dependsOn = service.DependsOn.ToDictionary(d => d, d => DependsOnCondition(model, d));
        foreach (var step in service.Steps)
        {
            // compose 1.29 and later: the step's container must have exited with 0.
            dependsOn[StepServiceName(service, step)] = new ComposeDependency("service_completed_successfully");
        }
        return Hardened(service, options, service.Runtime.WritablePaths) with
        {
            Build = service.Build is { } build
                ? new ComposeBuild(
                    Path.GetRelativePath(outputDirectory, build.ContextPath),
                    Path.GetRelativePath(build.ContextPath, build.DockerfilePath),
                    build.Args.Count > 0 ? build.Args.ToDictionary(a => a.Key, a => Escape(a.Value)) : null)
                : null,
            Entrypoint = service.Entrypoint is { } entrypoint ? [Escape(entrypoint)] : null,
            Command = service.Args.Count > 0 ? [.. service.Args.Select(Interpolate)] : null,
            Environment = environment.Count > 0 ? environment : null,
            Ports = ports.Count > 0 ? ports : null,
            Expose = service.Ports.Count > 0 ? [.. service.Ports.Select(p => p.TargetPort.ToString(CultureInfo.InvariantCulture)).Distinct()] : null,
            Volumes = mounts.Count > 0 ? mounts : null,
            // Compose's first check runs one interval after start, and a dependent starts only once it has
            // passed, so the interval is paid at every link of the start order (compose 1.29 and Docker 20.10
            // have no start_interval). 5 s halves that wait; a probe costs ~50 ms of CPU (Docker's exec), about
            // 0.1 core for the nine services. The retries keep a minute of failures before "unhealthy".
            Healthcheck = HealthCheck(service.Readiness) is { } test
                ? new ComposeHealthCheck(test, Interval: "5s", Timeout: "5s", Retries: 12, StartPeriod: "20s")
                : null,
            DependsOn = dependsOn.Count > 0 ? dependsOn : null,
            Deploy = service.Replicas > 1 ? new ComposeDeploy(service.Replicas) : null,
            // A .NET service needs its shutdown timeout to finish what is under way (StopTiming).
            StopGracePeriod = service.Kind == ServiceKind.Project ? $"{StopTiming.ComposeGracePeriodSeconds}s" : null,
            Restart = "unless-stopped",
        };
    }

    /// <summary>
    /// The Kubernetes pods' hardening, as far as compose says it: the image's numeric user (the postgres and redis
    /// images would start as root and need capabilities to chown and switch user), a read-only root filesystem
    /// with a tmpfs where the pod has an emptyDir, no capabilities, no privilege gained through setuid binaries,
    /// the pod's memory limit, and logs rotated as kubelet rotates a pod's.
    /// </summary>
    private static ComposeService Hardened(DeployService service, PublishOptions options, IReadOnlyList<string> writablePaths) => new()
    {
        // Docker never rotates a json-file log unless told, and it grows on the disk of the databases' volumes.
        Logging = new ComposeLogging("json-file", new Dictionary<string, string> { ["max-size"] = "10m", ["max-file"] = "5" }),
        Image = Image(service, options),
        Networks = [Network],
        User = service.Runtime.User is { } user ? $"{user}:{service.Runtime.Group ?? user}" : null,
        ReadOnly = true,
        Tmpfs = writablePaths,
        CapDrop = ["ALL"],
        SecurityOpt = ["no-new-privileges:true"],
        MemLimit = DockerBytes(options.MemoryLimitOf(service)),
    };

    /// <summary>A Kubernetes quantity (<c>448Mi</c>) in Docker's notation (<c>448m</c>: Docker's units count in 1024s).</summary>
    internal static string DockerBytes(string quantity)
    {
        var bytes = new k8s.Models.ResourceQuantity(quantity).ToInt64();
        return bytes % (1 << 20) == 0 ? $"{bytes >> 20}m" : bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A compose healthcheck. HTTP probes use <c>wget</c>, which the images have: busybox in the
    /// alpine-based .NET images built by <c>./shop images</c> and in nginx:alpine. A TCP probe has no
    /// tool-free equivalent, so such a service keeps its image's own HEALTHCHECK, if any.
    /// </summary>
    public static List<string>? HealthCheck(DeployProbe? probe) => probe switch
    {
        HttpProbe http => ["CMD", "wget", "-q", "-O", "/dev/null", $"http://127.0.0.1:{http.Port}{http.Path}"],
        ExecProbe exec when exec.Command is ["sh", "-c", var script] => ["CMD-SHELL", Escape(script)],
        ExecProbe exec => ["CMD", .. exec.Command.Select(Escape)],
        _ => null,
    };

    /// <summary>
    /// Parameters become <c>${KEY}</c> (compose fails if .env lacks it or has it empty), an optional one <c>${KEY:-}</c>
    /// (empty unless set); a literal <c>$</c> is escaped as <c>$$</c>.
    /// </summary>
    public static string Interpolate(DeployValue value) =>
        value.Render(Escape, p => p.Parameter.Optional ? $"${{{p.Key}:-}}" : $"${{{p.Key}:?{p.Key} is not set in .env}}");

    private static string Escape(string literal) => literal.Replace("$", "$$", StringComparison.Ordinal);
}
