using Aspire.Hosting.ApplicationModel;

namespace Shop.Publishing;

/// <summary>
/// A target-neutral description of what to deploy, built from the Aspire app model
/// (<see cref="DeploymentModelBuilder"/>) and written out by the compose and Kubernetes writers.
/// </summary>
public sealed record DeploymentModel(IReadOnlyList<DeployService> Services, IReadOnlyList<DeployParameter> Parameters);

public enum ServiceKind
{
    /// <summary>A .NET project; its image is built by the SDK (<c>/t:PublishContainer</c>).</summary>
    Project,
    /// <summary>A container from a registry image.</summary>
    Container,
    /// <summary>A container whose image is built from a Dockerfile.</summary>
    DockerfileBuild,
}

/// <param name="DependsOn">Services this one waits for before starting (the AppHost's <c>WaitFor</c>).</param>
/// <param name="References">Services this one (or one of its steps) connects to: the owners of the endpoints its environment and arguments name.</param>
/// <param name="Steps">Work run to completion in this service's image before it starts (<see cref="DeploymentStepAnnotation"/>).</param>
/// <param name="Files">Files the container needs at given paths (e.g. the postgres image's initialisation scripts).</param>
public sealed record DeployService(
    string Name,
    ServiceKind Kind,
    string Image,
    DockerfileBuild? Build,
    IReadOnlyList<DeployPort> Ports,
    IReadOnlyList<KeyValuePair<string, DeployValue>> Environment,
    string? Entrypoint,
    IReadOnlyList<DeployValue> Args,
    IReadOnlyList<DeployVolume> Volumes,
    IReadOnlyList<string> DependsOn,
    DeployProbe? Readiness,
    DeployProbe? Liveness,
    int Replicas,
    IReadOnlyList<string> References,
    DeployRuntime Runtime,
    IReadOnlyList<DeployStep> Steps,
    IReadOnlyList<DeployFile> Files)
{
    /// <summary>Services with data volumes keep state: one replica, StatefulSet on Kubernetes.</summary>
    public bool Stateful => Volumes.Count > 0;

    /// <summary>Literal settings only for a deployment that puts its own proxy in front of the service (<see cref="IngressEnvironmentAnnotation"/>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> IngressEnvironment { get; init; } = [];

    /// <summary>Its own memory request and limit (<see cref="DeploymentMemoryAnnotation"/>); null: the publish options' defaults.</summary>
    public DeploymentMemoryAnnotation? Memory { get; init; }

    /// <summary>A first start that may take longer than liveness allows (<see cref="PublishConventions.Startup"/>); null: none.</summary>
    public DeployStartup? Startup { get; init; }
}

/// <summary>A check that holds liveness off until it first passes, for up to <paramref name="Seconds"/> after the start.</summary>
public sealed record DeployStartup(DeployProbe Probe, int Seconds);

/// <summary>
/// The user and group the image runs as (null: unknown, the image's own) and the directories its
/// processes write to besides the data volumes (always <c>/tmp</c>).
/// </summary>
public sealed record DeployRuntime(long? User, long? Group, IReadOnlyList<string> WritablePaths);

/// <summary>A <see cref="DeploymentStepAnnotation"/>: its arguments and its only environment, evaluated like a service's.</summary>
/// <param name="DependsOn">The services of the resource's <c>WaitFor</c> that the step connects to: they must be ready before it runs.</param>
public sealed record DeployStep(string Name, IReadOnlyList<DeployValue> Args, IReadOnlyList<KeyValuePair<string, DeployValue>> Environment, IReadOnlyList<string> DependsOn);

/// <summary>A file (no secrets: it is written into the output) placed read-only in the container at <paramref name="Path"/>.</summary>
public sealed record DeployFile(string Path, string Content)
{
    public string FileName => System.IO.Path.GetFileName(Path);

    public string Directory => System.IO.Path.GetDirectoryName(Path)!;
}

/// <param name="Args">Build arguments (<c>--build-arg</c>), e.g. the base images of the chosen set.</param>
public sealed record DockerfileBuild(string ContextPath, string DockerfilePath, IReadOnlyDictionary<string, string> Args);

/// <summary>An endpoint: <paramref name="TargetPort"/> inside the container; <paramref name="PublishedPort"/> on the host/load balancer when external.</summary>
public sealed record DeployPort(string Name, string Scheme, int TargetPort, int? PublishedPort, bool External);

public sealed record DeployVolume(string Name, string Target, bool ReadOnly);

public abstract record DeployProbe;

public sealed record HttpProbe(string Path, int Port) : DeployProbe;

/// <summary>A command run inside the container; literal text (a shell may expand <c>$VAR</c> itself).</summary>
public sealed record ExecProbe(IReadOnlyList<string> Command) : DeployProbe;

public sealed record TcpProbe(int Port) : DeployProbe;

/// <summary>An AppHost parameter; <see cref="Key"/> names it in <c>.env</c> / its Secret / the ConfigMap.</summary>
public sealed record DeployParameter(string Name, string Key, bool Secret)
{
    /// <summary>Empty unless the operator sets it (<see cref="OptionalParameterDefault"/>): an empty value is not a missing one.</summary>
    public bool Optional { get; init; }

    /// <summary>The key holding the URI-escaped form of the value (for <c>postgresql://</c> style URIs).</summary>
    public string UriKey => Key + "_URI";
}

/// <summary>A value made of literal text and parameter references, rendered differently per target.</summary>
public sealed record DeployValue(IReadOnlyList<ValueSegment> Segments)
{
    public static DeployValue Literal(string text) => new([new LiteralSegment(text)]);

    public bool IsLiteral => Segments.All(s => s is LiteralSegment);

    public bool IsSecret => Parameters.Any(p => p.Parameter.Secret);

    public IEnumerable<ParameterSegment> Parameters => Segments.OfType<ParameterSegment>();

    /// <summary>The whole value is one parameter (no surrounding text).</summary>
    public ParameterSegment? SingleParameter => Segments is [ParameterSegment p] ? p : null;

    public string Render(Func<string, string> literal, Func<ParameterSegment, string> parameter) =>
        string.Concat(Segments.Select(s => s switch
        {
            LiteralSegment l => literal(l.Text),
            ParameterSegment p => parameter(p),
            _ => throw new NotSupportedException(s.GetType().Name),
        }));

    public string LiteralText => IsLiteral
        ? Render(t => t, _ => throw new InvalidOperationException())
        : throw new InvalidOperationException("The value references parameters.");

    public override string ToString() => Render(t => t, p => $"{{{p.Key}}}");
}

public abstract record ValueSegment;

public sealed record LiteralSegment(string Text) : ValueSegment;

public sealed record ParameterSegment(DeployParameter Parameter, bool UriEncoded) : ValueSegment
{
    public string Key => UriEncoded ? Parameter.UriKey : Parameter.Key;
}
