using System.Text;
using Aspire.Hosting.ApplicationModel;

namespace Shop.Publishing;

/// <summary>
/// Reads the Aspire app model in publish mode: every project and container becomes a
/// <see cref="DeployService"/>; environment callbacks, arguments and connection strings are evaluated
/// and endpoint references are turned into in-network DNS names (<c>&lt;resource&gt;:&lt;targetPort&gt;</c>),
/// which are the same for a compose network and a Kubernetes namespace.
/// </summary>
public sealed class DeploymentModelBuilder
{
    /// <summary>The port .NET container images listen on (ASPNETCORE_HTTP_PORTS).</summary>
    public const int DotnetContainerPort = 8080;

    private readonly DistributedApplicationModel _model;
    private readonly DistributedApplicationExecutionContext _executionContext;
    private readonly PublishOptions _options;
    private readonly Dictionary<EndpointAnnotation, int> _targetPorts = [];
    private readonly Dictionary<ParameterResource, DeployParameter> _parameters = [];
    /// <summary>The deployed resources whose endpoints the values resolved since it was set refer to.</summary>
    private HashSet<string>? _references;

    public DeploymentModelBuilder(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext, PublishOptions options)
    {
        _model = model;
        _executionContext = executionContext;
        _options = options;
    }

    public async Task<DeploymentModel> BuildAsync(CancellationToken ct)
    {
        var computeResources = _model.Resources.Where(IsDeployable).ToList();
        foreach (var resource in computeResources)
        {
            AssignTargetPorts(resource);
        }
        foreach (var parameter in _model.Resources.OfType<ParameterResource>())
        {
            GetParameter(parameter);
        }

        var services = new List<DeployService>();
        foreach (var resource in computeResources)
        {
            services.Add(await BuildServiceAsync(resource, ct));
        }
        return new DeploymentModel(services, [.. _parameters.Values.OrderBy(p => p.Name, StringComparer.Ordinal)]);
    }

    /// <summary>Projects and containers are deployed; parameters, databases and connection strings are folded into them.</summary>
    public static bool IsDeployable(IResource resource)
    {
        if (resource.TryGetLastAnnotation<ManifestPublishingCallbackAnnotation>(out var manifest) && ReferenceEquals(manifest, ManifestPublishingCallbackAnnotation.Ignore))
        {
            return false;
        }
        return resource switch
        {
            ProjectResource or ContainerResource => true,
            IComputeResource => throw new NotSupportedException(
                $"Resource '{resource.Name}' ({resource.GetType().Name}) cannot be deployed as a container; declare a container or project for publish mode."),
            _ => false,
        };
    }

    private void AssignTargetPorts(IResource resource)
    {
        // Projects without an explicit target port listen on 8080, 8081, … in the container (HTTP_PORTS).
        var next = DotnetContainerPort;
        foreach (var endpoint in resource.Annotations.OfType<EndpointAnnotation>())
        {
            _targetPorts[endpoint] = endpoint.TargetPort ?? (resource is ProjectResource
                ? next++
                : endpoint.Port ?? throw new InvalidOperationException($"Endpoint '{resource.Name}/{endpoint.Name}' has no target port."));
        }
    }

    private async Task<DeployService> BuildServiceAsync(IResource resource, CancellationToken ct)
    {
        var kind = resource switch
        {
            ProjectResource => ServiceKind.Project,
            _ when resource.TryGetLastAnnotation<DockerfileBuildAnnotation>(out _) => ServiceKind.DockerfileBuild,
            _ => ServiceKind.Container,
        };
        DockerfileBuild? build = resource.TryGetLastAnnotation<DockerfileBuildAnnotation>(out var dockerfile)
            ? new DockerfileBuild(dockerfile.ContextPath, dockerfile.DockerfilePath,
                dockerfile.BuildArguments.ToDictionary(a => a.Key, a => Convert.ToString(a.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""))
            : null;
        var image = kind == ServiceKind.Container ? RegistryImage(resource) : _options.ImageFor(resource.Name);

        var ports = resource.Annotations.OfType<EndpointAnnotation>()
            .Select(e => new DeployPort(e.Name, e.UriScheme, _targetPorts[e], e.IsExternal ? e.Port ?? _targetPorts[e] : null, e.IsExternal))
            .ToList();

        _references = new HashSet<string>(StringComparer.Ordinal);
        var environment = await EvaluateEnvironmentAsync(resource, ct);
        var args = await EvaluateArgsAsync(resource, ct);
        var references = _references;
        _references = null;
        var volumes = resource.Annotations.OfType<ContainerMountAnnotation>()
            .Select(m => m.Type == ContainerMountType.Volume && m.Source is { Length: > 0 } source
                ? new DeployVolume(source, m.Target, m.IsReadOnly)
                : throw new NotSupportedException($"Resource '{resource.Name}': bind mounts ({m.Source}) cannot be deployed; use a named volume."))
            .ToList();

        var dependsOn = resource.Annotations.OfType<WaitAnnotation>()
            .Select(w => DeployedOwner(w.Resource).Name)
            .Where(n => n != resource.Name)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var steps = new List<DeployStep>();
        foreach (var step in resource.Annotations.OfType<DeploymentStepAnnotation>())
        {
            _references = new HashSet<string>(StringComparer.Ordinal);
            var stepEnvironment = step.Environment.Select(kv => new KeyValuePair<string, DeployValue>(kv.Key, Resolve(kv.Value))).ToList();
            steps.Add(new DeployStep(step.Name, [.. step.Args.Select(DeployValue.Literal)], stepEnvironment, [.. dependsOn.Where(_references.Contains)]));
            references.UnionWith(_references);
            _references = null;
        }

        var (readiness, liveness) = PublishConventions.Probes(resource, ports);
        foreach (var (name, value) in PublishConventions.ExtraEnvironment(resource))
        {
            environment.Add(new(name, DeployValue.Literal(value)));
        }

        var replicas = resource.TryGetLastAnnotation<ReplicaAnnotation>(out var replica) ? replica.Replicas : 1;
        return new DeployService(resource.Name, kind, image, build, ports, environment,
            (resource as ContainerResource)?.Entrypoint, args, volumes, dependsOn, readiness, liveness,
            volumes.Count > 0 ? 1 : replicas, [.. references.Where(r => r != resource.Name).Order(StringComparer.Ordinal)],
            PublishConventions.Runtime(resource), steps, await ContainerFilesAsync(resource, ct))
        {
            IngressEnvironment = [.. resource.Annotations.OfType<IngressEnvironmentAnnotation>().Select(a => new KeyValuePair<string, string>(a.Name, a.Value))],
            Memory = resource.TryGetLastAnnotation<DeploymentMemoryAnnotation>(out var memory) ? memory : null,
            Startup = PublishConventions.Startup(resource, liveness),
        };
    }

    /// <summary>The files of <c>WithContainerFiles</c>, with the paths they get in the container.</summary>
    private async Task<List<DeployFile>> ContainerFilesAsync(IResource resource, CancellationToken ct)
    {
        var files = new List<DeployFile>();
        foreach (var annotation in resource.Annotations.OfType<ContainerFileSystemCallbackAnnotation>())
        {
            var context = new ContainerFileSystemCallbackContext { Services = _executionContext.Services, Model = resource };
            foreach (var item in await annotation.Callback(context, ct))
            {
                Collect(annotation.DestinationPath, item);
            }
        }
        return files;

        void Collect(string directory, ContainerFileSystemItem item)
        {
            var path = $"{directory.TrimEnd('/')}/{item.Name}";
            switch (item)
            {
                case ContainerDirectory folder:
                    foreach (var entry in folder.Entries)
                    {
                        Collect(path, entry);
                    }
                    break;
                case ContainerFile { Contents: { } contents }:
                    files.Add(new DeployFile(path, contents));
                    break;
                case ContainerFile { SourcePath: { } source }:
                    files.Add(new DeployFile(path, File.ReadAllText(source)));
                    break;
                default:
                    throw new NotSupportedException($"Resource '{resource.Name}': container file {path} ({item.GetType().Name}) cannot be deployed.");
            }
        }
    }

    private static string RegistryImage(IResource resource)
    {
        if (!resource.TryGetLastAnnotation<ContainerImageAnnotation>(out var image))
        {
            throw new InvalidOperationException($"Container '{resource.Name}' has no image.");
        }
        var name = image.Registry is { Length: > 0 } registry && !image.Image.StartsWith(registry + "/", StringComparison.Ordinal)
            ? $"{registry}/{image.Image}"
            : image.Image;
        return image.SHA256 is { Length: > 0 } digest ? $"{name}@sha256:{digest}" : $"{name}:{image.Tag ?? "latest"}";
    }

    /// <summary>The deployed resource that owns <paramref name="resource"/> (a database's server, a parameter's…).</summary>
    private static IResource DeployedOwner(IResource resource)
    {
        while (resource is IResourceWithParent child)
        {
            resource = child.Parent;
        }
        return resource;
    }

    private async Task<List<KeyValuePair<string, DeployValue>>> EvaluateEnvironmentAsync(IResource resource, CancellationToken ct)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        var context = new EnvironmentCallbackContext(_executionContext, resource, values, ct);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }
        return [.. values.Select(kv => new KeyValuePair<string, DeployValue>(kv.Key, Resolve(kv.Value)))];
    }

    private async Task<List<DeployValue>> EvaluateArgsAsync(IResource resource, CancellationToken ct)
    {
        var args = new List<object>();
        var context = new CommandLineArgsCallbackContext(args, resource, ct);
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }
        var values = args.Select(Resolve).ToList();
#pragma warning disable ASPIRECONTAINERSHELLEXECUTION001 // read-only use of the flag the built-in manifest honours too
        var shell = resource is ContainerResource { ShellExecution: true };
#pragma warning restore ASPIRECONTAINERSHELLEXECUTION001
        if (shell && values.Count > 0)
        {
            // The entrypoint is a shell: the arguments form one command line, as Aspire's own manifest does.
            var separator = new LiteralSegment(" ");
            var commandLine = values.SelectMany((v, i) => i == 0 ? v.Segments : v.Segments.Prepend(separator));
            return [DeployValue.Literal("-c"), new DeployValue(Merge(commandLine))];
        }
        return values;
    }

    /// <summary>Turns an environment/argument value of the app model into literal text and parameter references.</summary>
    public DeployValue Resolve(object? value) => new(Merge(ResolveSegments(value, uri: false)));

    private IEnumerable<ValueSegment> ResolveSegments(object? value, bool uri)
    {
        switch (value)
        {
            case null:
                return [];
            case string text:
                return [new LiteralSegment(uri ? Uri.EscapeDataString(text) : text)];
            case ParameterResource parameter:
                return [new ParameterSegment(GetParameter(parameter), uri)];
            case ConnectionStringReference reference:
                return ResolveSegments(reference.Resource.ConnectionStringExpression, uri);
            case IResourceWithConnectionString resource:
                return ResolveSegments(resource.ConnectionStringExpression, uri);
            case EndpointReference endpoint:
                return ResolveSegments(endpoint.Property(EndpointProperty.Url), uri);
            case EndpointReferenceExpression expression:
                return ResolveSegments(EndpointValue(expression), uri);
            case ReferenceExpression { IsConditional: true } conditional:
                var condition = Resolve(conditional.Condition);
                var matches = string.Equals(condition.LiteralText, conditional.MatchValue, StringComparison.OrdinalIgnoreCase);
                return ResolveSegments(matches ? conditional.WhenTrue : conditional.WhenFalse, uri);
            case ReferenceExpression expression:
                return ResolveFormat(expression, uri);
            default:
                throw new NotSupportedException($"Cannot publish a value of type {value.GetType().Name}.");
        }
    }

    private string EndpointValue(EndpointReferenceExpression expression)
    {
        var endpoint = expression.Endpoint.EndpointAnnotation;
        var host = expression.Endpoint.Resource.Name;
        _references?.Add(DeployedOwner(expression.Endpoint.Resource).Name);
        var port = _targetPorts.TryGetValue(endpoint, out var p)
            ? p
            : throw new InvalidOperationException($"Endpoint '{host}/{endpoint.Name}' belongs to a resource that is not deployed.");
        return expression.Property switch
        {
            EndpointProperty.Url => $"{endpoint.UriScheme}://{host}:{port}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => host,
            EndpointProperty.Port or EndpointProperty.TargetPort => port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            EndpointProperty.HostAndPort => $"{host}:{port}",
            EndpointProperty.Scheme => endpoint.UriScheme,
            EndpointProperty.TlsEnabled => endpoint.TlsEnabled ? bool.TrueString : bool.FalseString,
            _ => throw new NotSupportedException($"Endpoint property {expression.Property}."),
        };
    }

    /// <summary>Walks a composite format such as <c>Host={0};Port={1}</c>, honouring <c>{{</c> escapes and the "uri" format.</summary>
    private IEnumerable<ValueSegment> ResolveFormat(ReferenceExpression expression, bool uri)
    {
        var format = expression.Format;
        var literal = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if ((c == '{' || c == '}') && i + 1 < format.Length && format[i + 1] == c)
            {
                literal.Append(c);
                i++;
                continue;
            }
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            var end = format.IndexOf('}', i);
            var placeholder = format[(i + 1)..end].Split(':', 2);
            var index = int.Parse(placeholder[0], System.Globalization.CultureInfo.InvariantCulture);
            var formatName = placeholder.Length > 1 ? placeholder[1] : expression.StringFormats.ElementAtOrDefault(index);
            if (formatName is not (null or "" or "uri"))
            {
                throw new NotSupportedException($"Value format '{formatName}'.");
            }
            if (literal.Length > 0)
            {
                yield return new LiteralSegment(uri ? Uri.EscapeDataString(literal.ToString()) : literal.ToString());
                literal.Clear();
            }
            foreach (var segment in ResolveSegments(expression.ValueProviders[index], uri || formatName == "uri"))
            {
                yield return segment;
            }
            i = end;
        }
        if (literal.Length > 0)
        {
            yield return new LiteralSegment(uri ? Uri.EscapeDataString(literal.ToString()) : literal.ToString());
        }
    }

    private static List<ValueSegment> Merge(IEnumerable<ValueSegment> segments)
    {
        var merged = new List<ValueSegment>();
        foreach (var segment in segments)
        {
            if (segment is LiteralSegment next && merged.Count > 0 && merged[^1] is LiteralSegment previous)
            {
                merged[^1] = new LiteralSegment(previous.Text + next.Text);
            }
            else if (segment is not LiteralSegment { Text.Length: 0 })
            {
                merged.Add(segment);
            }
        }
        return merged;
    }

    private DeployParameter GetParameter(ParameterResource parameter)
    {
        if (!_parameters.TryGetValue(parameter, out var deployed))
        {
            deployed = new DeployParameter(parameter.Name, EnvironmentKey(parameter.Name), parameter.Secret) { Optional = parameter.IsOptional() };
            _parameters[parameter] = deployed;
        }
        return deployed;
    }

    /// <summary><c>users-db-password</c> → <c>USERS_DB_PASSWORD</c>.</summary>
    public static string EnvironmentKey(string name)
    {
        var key = new StringBuilder();
        foreach (var c in name)
        {
            key.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }
        return key.ToString();
    }

    /// <summary>The AppHost's parameter resources, for value resolution.</summary>
    public IReadOnlyDictionary<ParameterResource, DeployParameter> ParameterResources => _parameters;
}
