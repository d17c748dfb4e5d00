using System.Globalization;
using Aspire.Hosting.ApplicationModel;

namespace Shop.Publishing;

/// <summary>
/// What the app model does not say but a deployment needs: how to probe each kind of resource and
/// a few image-specific settings. Keyed by resource type, so a new resource of a known kind needs
/// nothing here, and an unknown container still gets a TCP probe on its first port.
/// </summary>
public static class PublishConventions
{
    public const string ReadinessPath = "/health";
    public const string LivenessPath = "/alive";

    public static (DeployProbe? Readiness, DeployProbe? Liveness) Probes(IResource resource, IReadOnlyList<DeployPort> ports)
    {
        switch (resource)
        {
            case ProjectResource:
                // Shop.ServiceDefaults maps /health (every check) and /alive (the process answers).
                var http = ports.FirstOrDefault(p => p.Scheme is "http" or "https")
                    ?? throw new InvalidOperationException($"Project '{resource.Name}' has no HTTP endpoint to probe.");
                return (new HttpProbe(ReadinessPath, http.TargetPort), new HttpProbe(LivenessPath, http.TargetPort));
            case PostgresServerResource:
                var postgres = new ExecProbe(["pg_isready", "-U", "postgres", "-h", "127.0.0.1"]);
                return (postgres, postgres);
            case RedisResource:
                // requirepass is set: an unauthenticated PING answers NOAUTH, still with exit code 0. The password goes in
                // redis-cli's environment, not its arguments, which every process list of the node shows at each probe.
                var redis = new ExecProbe(["sh", "-c", "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli --no-auth-warning ping | grep -q PONG"]);
                return (redis, redis);
            case var _ when resource.TryGetLastAnnotation<DeploymentHttpProbeAnnotation>(out var declared):
                var port = ports.FirstOrDefault(p => p.Scheme is "http")
                    ?? throw new InvalidOperationException($"'{resource.Name}' declares an HTTP probe but has no HTTP endpoint.");
                return (new HttpProbe(declared.Path, port.TargetPort), new HttpProbe(declared.Path, port.TargetPort));
            default:
                var first = ports.FirstOrDefault();
                return first is null ? (null, null) : (new TcpProbe(first.TargetPort), new TcpProbe(first.TargetPort));
        }
    }

    /// <summary>
    /// How long a server's start may take before liveness counts. PostgreSQL's first start runs initdb and the
    /// init scripts (the roles) with the server on its socket only, so its probe fails throughout; killed part-way,
    /// the next start finds a data directory and skips the scripts, and the application roles never exist. Redis
    /// answers LOADING, not PONG, while it reads a large append-only file. Five minutes covers initdb on slow storage.
    /// </summary>
    public const int FirstStartSeconds = 300;

    public static DeployStartup? Startup(IResource resource, DeployProbe? liveness) =>
        resource is PostgresServerResource or RedisResource && liveness is not null ? new DeployStartup(liveness, FirstStartSeconds) : null;

    /// <summary>
    /// The user an image runs as and where it writes: declared with <see cref="ContainerRuntimeAnnotation"/>
    /// where the image is chosen; the .NET images are built here to run as their 'app' user. Unknown
    /// otherwise: the pod still requires a non-root user, which the image must then have as a number.
    /// </summary>
    public static DeployRuntime Runtime(IResource resource)
    {
        const string Tmp = "/tmp";
        if (resource.TryGetLastAnnotation<ContainerRuntimeAnnotation>(out var declared))
        {
            return new DeployRuntime(declared.User, declared.Group, [Tmp, .. declared.WritablePaths.Where(p => p != Tmp)]);
        }
        if (resource is ProjectResource)
        {
            var app = long.Parse(ContainerImageBuilder.ContainerUser, CultureInfo.InvariantCulture);
            return new DeployRuntime(app, app, [Tmp]); // the images' 'app' group has the same number
        }
        return new DeployRuntime(null, null, [Tmp]);
    }

    /// <summary>
    /// What a Redis password can be, in a deployment and in run mode. Redis takes any (its command line quotes it), but the services'
    /// connection string (<c>redis:6379,password=…</c>) is split by StackExchange.Redis at every <c>,</c>, for which it
    /// has no escape (StackExchange.Redis#680), and each value is trimmed: they would not connect.
    /// </summary>
    public const string RedisPasswordCharacters = "any character but ',', with no space at either end";

    /// <summary>
    /// What any parameter's value can be in a deployment, and a PostgreSQL password in run mode (<c>ShopInfrastructure</c>).
    /// <c>.env</c> and <c>secrets/*.env</c> hold one value a line, which a line break ends (a <c>\r</c> too, read back);
    /// initdb keeps only a password's first line (<c>--pwfile</c>, and the postgres image's from <c>POSTGRES_PASSWORD</c>).
    /// The other control characters are refused with them: invisible in every file and log, not typed at a prompt, and
    /// prohibited by the SASLprep that PostgreSQL's SCRAM applies to a password.
    /// </summary>
    public const string PrintableCharacters = "any character but a control character (a line break, a tab, ...)";

    public static bool HoldsControlCharacter(string value) => value.Any(char.IsControl);

    /// <summary>Why <paramref name="value"/> cannot be <paramref name="parameter"/>'s in a deployment of <paramref name="model"/>; null when it can.</summary>
    public static string? UnusableValue(DistributedApplicationModel model, ParameterResource parameter, string value) =>
        HoldsControlCharacter(value)
            ? $"it holds a control character, and a deployment's values can be {PrintableCharacters}"
            : model.Resources.OfType<RedisResource>().Any(r => ReferenceEquals(r.PasswordParameter, parameter))
            ? UnusableRedisPassword(value)
            : null;

    /// <summary>Why <paramref name="value"/> cannot be Redis' password, in a deployment or run mode; null when it can.</summary>
    public static string? UnusableRedisPassword(string value) =>
        HoldsControlCharacter(value)
            ? $"it holds a control character, and Redis' password can be {PrintableCharacters}"
            : value.Contains(',') || value.Trim() != value
            ? $"it is Redis' password, which the services' connection string can hold only as {RedisPasswordCharacters} (a generated one is letters and digits)"
            : null;

    /// <summary>
    /// What a parameter's value can be where a deployment's value holds it in single quotes, as the services' PostgreSQL
    /// connection strings hold their passwords (<c>Password='…'</c>, so Npgsql takes a <c>;</c>, a <c>=</c>, a <c>"</c> and
    /// spaces at either end as part of it): a <c>'</c> would end the quotes, and it cannot be doubled there, the value
    /// going through <c>.env</c> or a Secret as it is.
    /// </summary>
    public const string QuotedValueCharacters = "any character but '";

    /// <summary>Why <paramref name="value"/> cannot be <paramref name="parameter"/>'s where <paramref name="deployment"/> quotes it; null when it can.</summary>
    public static string? UnusableValue(DeploymentModel deployment, DeployParameter parameter, string value) =>
        value.Contains('\'') && deployment.Services
            .SelectMany(s => s.Environment.Concat(s.Steps.SelectMany(step => step.Environment)).Select(e => (Service: s.Name, Variable: e.Key, e.Value)))
            .FirstOrDefault(e => InSingleQuotes(e.Value, parameter)) is { Service: not null } quoted
            ? $"{quoted.Variable} of {quoted.Service} holds it in single quotes, which can hold {QuotedValueCharacters} (a generated one is letters and digits)"
            : null;

    private static bool InSingleQuotes(DeployValue value, DeployParameter parameter) =>
        value.Segments.Select((segment, i) => segment is ParameterSegment { UriEncoded: false } p && p.Parameter == parameter
            && i > 0 && value.Segments[i - 1] is LiteralSegment before && before.Text.EndsWith('\'')
            && i + 1 < value.Segments.Count && value.Segments[i + 1] is LiteralSegment after && after.Text.StartsWith('\'')).Any(quoted => quoted);

    /// <summary>Environment the image needs in a deployment beyond what the app model sets.</summary>
    public static IEnumerable<(string Name, string Value)> ExtraEnvironment(IResource resource)
    {
        if (resource is PostgresServerResource server)
        {
            // A fresh PersistentVolume has lost+found at its root, which initdb refuses: use a subdirectory.
            yield return ("PGDATA", "/var/lib/postgresql/data/pgdata");
            // Create the (first) database at initialisation; the services' EF migrations would create it too.
            if (server.Databases.Values.FirstOrDefault() is { } database)
            {
                yield return ("POSTGRES_DB", database);
            }
        }
    }
}
