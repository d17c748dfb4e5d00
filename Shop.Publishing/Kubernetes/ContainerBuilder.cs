using k8s.Models;

namespace Shop.Publishing;

/// <summary>A service's main container, the init containers that wait for its dependencies, and its steps.</summary>
internal static class ContainerBuilder
{
    public static V1Container Main(ServicePlan plan)
    {
        var service = plan.Service;
        return new V1Container
        {
            Name = service.Name,
            Image = service.Image,
            ImagePullPolicy = PullPolicy(service.Image),
            Command = service.Entrypoint is { } entrypoint ? [entrypoint] : null,
            Args = service.Args.Count > 0 ? [.. service.Args.Select(KubernetesText)] : null,
            Ports = service.Ports.Count > 0
                ? [.. service.Ports.Select(p => new V1ContainerPort { Name = KubernetesObjects.PortName(p), ContainerPort = p.TargetPort, Protocol = "TCP" })]
                : null,
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = plan.EnvironmentConfigMap } }],
            Env = plan.Environment.Count > 0 ? plan.Environment : null,
            ReadinessProbe = Probe(service.Readiness, initialDelay: 5),
            LivenessProbe = Probe(service.Liveness, initialDelay: 30),
            // Readiness and liveness wait until it has passed once.
            StartupProbe = service.Startup is { } startup ? Probe(startup.Probe, initialDelay: 0)! with { FailureThreshold = startup.Seconds / ProbePeriodSeconds } : null,
            Resources = Resources(plan),
            // A replica that is stopping keeps serving until it is out of rotation, then stops (StopTiming).
            Lifecycle = service.Stateful ? null : new V1Lifecycle { PreStop = new V1LifecycleHandler { Sleep = new V1SleepAction { Seconds = StopTiming.PreStopSeconds } } },
            VolumeMounts =
            [
                .. service.Volumes.Select(v => new V1VolumeMount { Name = v.Name, MountPath = v.Target, ReadOnlyProperty = v.ReadOnly }),
                .. plan.Scratch.Select(s => new V1VolumeMount { Name = s.Volume, MountPath = s.Path }),
                .. plan.FileDirectories.Select(d => new V1VolumeMount { Name = d.Volume, MountPath = d.Path, ReadOnlyProperty = true }),
            ],
            SecurityContext = Security(),
        };
    }

    /// <summary>
    /// The AppHost's <c>WaitFor</c> of a database or Redis as init containers: each loops until the
    /// dependency's Service accepts a TCP connection. A Service only routes to Ready pods (a headless one
    /// only resolves them), so this waits for the dependency's readiness probe, like compose's
    /// <c>service_healthy</c>. Not for a wait on another stateless service (Orders on Users and Inventory,
    /// the gateway on every API and the SPA): an init container runs at every pod start, not only the first
    /// deployment's, so a pod rescheduled or added by the autoscaler while that service had no ready pod
    /// (a database restart takes Inventory's out) would sit in Init, and the gateway would shrink to the pods
    /// already up. The services answer 503 for a peer that is away and their readiness does not depend on
    /// one. Only for the .NET services: they run in our Alpine images, whose busybox has <c>nc</c>; another
    /// image may have no shell, and relies on readiness and restarts.
    /// </summary>
    public static IEnumerable<V1Container> WaitForDependencies(ServicePlan plan, V1Container main)
    {
        if (plan.Service.Kind != ServiceKind.Project)
        {
            return [];
        }
        return plan.Service.DependsOn
            .Select(name => plan.Model.Services.Single(s => s.Name == name))
            .Where(dependency => dependency.Stateful && dependency.Ports.Count > 0)
            .Select(dependency => (dependency.Name, Port: KubernetesObjects.ServicePort(dependency.Ports[0])))
            .Select(dependency => new V1Container
            {
                Name = $"wait-for-{dependency.Name}",
                Image = main.Image,
                ImagePullPolicy = main.ImagePullPolicy,
                Command = ["sh", "-c", $"until nc -z -w 2 {dependency.Name} {dependency.Port}; do echo waiting for {dependency.Name}:{dependency.Port}; sleep 2; done"],
                Resources = new V1ResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("16Mi") },
                    Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("32Mi") },
                },
                VolumeMounts = [.. TmpMounts(main)],
                SecurityContext = Security(),
            });
    }

    /// <summary>
    /// The service's steps (e.g. its migrations), as init containers after the waits: each runs in the
    /// service's image with only its own arguments and environment, and the pod's main container
    /// starts only once every step has exited 0. Every replica's pod runs them; they must be safe to
    /// repeat and to run at once (the migrations take a lock).
    /// </summary>
    public static IEnumerable<V1Container> Steps(ServicePlan plan, V1Container main) =>
        plan.Service.Steps.Select(step => new V1Container
        {
            Name = step.Name,
            Image = main.Image,
            ImagePullPolicy = main.ImagePullPolicy,
            Args = step.Args.Count > 0 ? [.. step.Args.Select(KubernetesText)] : null,
            Env = EnvironmentVariables(step.Environment, plain: null) is { Count: > 0 } env ? env : null,
            Resources = Resources(plan),
            VolumeMounts = [.. TmpMounts(main)],
            SecurityContext = Security(),
        });

    /// <summary>
    /// A container's environment: parameters from their own Secrets or the parameters ConfigMap, composites
    /// (connection strings, URIs) as <c>$(VAR)</c> references to them. Literal values go to
    /// <paramref name="plain"/> (the service's own ConfigMap) when given, else inline.
    /// </summary>
    public static List<V1EnvVar> EnvironmentVariables(IEnumerable<KeyValuePair<string, DeployValue>> values, Dictionary<string, string>? plain)
    {
        var env = new List<V1EnvVar>();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (value.IsLiteral && plain is not null)
            {
                plain[name] = value.LiteralText;
            }
            else if (value.SingleParameter is { } single)
            {
                env.Add(FromParameter(name, single));
            }
            else
            {
                // A composite: declare its parameters first, then refer to them as $(VAR).
                foreach (var parameter in value.Parameters.Where(p => declared.Add(HelperName(p))))
                {
                    env.Add(FromParameter(HelperName(parameter), parameter));
                }
                env.Add(new V1EnvVar { Name = name, Value = KubernetesText(value) });
            }
        }
        return env;
    }

    /// <summary>Literal text with <c>$(</c> escaped as <c>$$(</c>; parameters as <c>$(PARAM_KEY)</c>.</summary>
    public static string KubernetesText(DeployValue value) =>
        value.Render(t => t.Replace("$(", "$$(", StringComparison.Ordinal), p => $"$({HelperName(p)})");

    public static V1SecurityContext Security() => new()
    {
        RunAsNonRoot = true,
        ReadOnlyRootFilesystem = true,
        AllowPrivilegeEscalation = false,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    /// <summary>The service's own memory figures where it declares them (its measured peak), else the options' defaults.</summary>
    private static V1ResourceRequirements Resources(ServicePlan plan)
    {
        var options = plan.Options;
        var memory = plan.Service.Memory;
        return new()
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuRequest), ["memory"] = new(memory?.Request ?? options.MemoryRequest) },
            Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuLimit), ["memory"] = new(options.MemoryLimitOf(plan.Service)) },
        };
    }

    /// <summary>
    /// <c>:latest</c> (or no tag) names a different build over time: a node that has one cached would run it
    /// for ever, so it is pulled at every start. Any other tag (or a digest) is taken to be immutable.
    /// </summary>
    internal static string PullPolicy(string image)
    {
        var name = image[(image.LastIndexOf('/') + 1)..];
        if (name.Contains('@', StringComparison.Ordinal))
        {
            return "IfNotPresent";
        }
        var colon = name.LastIndexOf(':');
        return colon < 0 || name[(colon + 1)..] == "latest" ? "Always" : "IfNotPresent";
    }

    private static IEnumerable<V1VolumeMount> TmpMounts(V1Container main) => main.VolumeMounts.Where(m => m.MountPath == "/tmp");

    private static string HelperName(ParameterSegment parameter) => "PARAM_" + parameter.Key;

    private static V1EnvVar FromParameter(string name, ParameterSegment parameter) => new()
    {
        Name = name,
        ValueFrom = parameter.Parameter.Secret
            ? new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = KubernetesWriter.SecretName(parameter.Parameter), Key = parameter.Key } }
            : new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = KubernetesWriter.ParametersConfigMap, Key = parameter.Key } },
    };

    private const int ProbePeriodSeconds = 10;

    private static V1Probe? Probe(DeployProbe? probe, int initialDelay)
    {
        var handler = probe switch
        {
            HttpProbe http => new V1Probe { HttpGet = new V1HTTPGetAction { Path = http.Path, Port = http.Port } },
            ExecProbe exec => new V1Probe { Exec = new V1ExecAction { Command = [.. exec.Command] } },
            TcpProbe tcp => new V1Probe { TcpSocket = new V1TCPSocketAction { Port = tcp.Port } },
            _ => null,
        };
        return handler is null ? null : handler with { InitialDelaySeconds = initialDelay, PeriodSeconds = ProbePeriodSeconds, TimeoutSeconds = 5, FailureThreshold = 6 };
    }
}
