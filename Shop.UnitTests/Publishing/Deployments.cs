using Microsoft.Extensions.Configuration;
using Shop.Publishing;

namespace Shop.UnitTests.Publishing;

/// <summary>Deployment models written by hand, the shape DeploymentModelBuilder gives the writers.</summary>
internal static class Deployments
{
    public static PublishOptions Options { get; } = PublishOptions.From(new ConfigurationBuilder().Build());

    public static DeployParameter Secret { get; } = new("db-password", "DB_PASSWORD", Secret: true);
    public static DeployParameter Plain { get; } = new("admin-email", "ADMIN_EMAIL", Secret: false);

    public static DeployValue Literal(string text) => DeployValue.Literal(text);

    public static DeployValue Parameter(DeployParameter parameter) => new([new ParameterSegment(parameter, UriEncoded: false)]);

    /// <summary><c>Host=db;Password={DB_PASSWORD}</c>.</summary>
    public static DeployValue ConnectionString { get; } =
        new([new LiteralSegment("Host=db;Password="), new ParameterSegment(Secret, UriEncoded: false)]);

    public static DeployPort Http(int targetPort = 8080, int? published = null) =>
        new("http", "http", targetPort, published, External: published is not null);

    public static DeployService Project(
        string name,
        IReadOnlyList<DeployPort>? ports = null,
        IReadOnlyList<KeyValuePair<string, DeployValue>>? environment = null,
        IReadOnlyList<string>? dependsOn = null,
        IReadOnlyList<string>? references = null,
        IReadOnlyList<DeployStep>? steps = null)
    {
        ports ??= [];
        var http = ports.FirstOrDefault(p => p.Scheme == "http");
        return new DeployService(name, ServiceKind.Project, Options.ImageFor(name), Build: null, ports, environment ?? [],
            Entrypoint: null, Args: [], Volumes: [], dependsOn ?? [],
            Readiness: http is null ? null : new HttpProbe("/health", http.TargetPort),
            Liveness: http is null ? null : new HttpProbe("/alive", http.TargetPort),
            Replicas: 1, references ?? [], new DeployRuntime(1654, 1654, ["/tmp"]), steps ?? [], Files: []);
    }

    public static DeployService Database(string name) =>
        new(name, ServiceKind.Container, "docker.io/library/postgres:15-alpine", Build: null,
            [new DeployPort("tcp", "tcp", 5432, null, External: false)],
            [new("POSTGRES_PASSWORD", Parameter(Secret))],
            Entrypoint: null, Args: [], [new DeployVolume($"{name}-data", "/var/lib/postgresql/data", ReadOnly: false)], DependsOn: [],
            Readiness: new ExecProbe(["pg_isready", "-U", "postgres"]), Liveness: new ExecProbe(["pg_isready", "-U", "postgres"]),
            Replicas: 1, References: [], new DeployRuntime(70, 70, ["/tmp", "/var/run/postgresql"]), Steps: [],
            [new DeployFile("/docker-entrypoint-initdb.d/10-roles.sh", "#!/bin/sh\n")]);

    public static DeploymentModel Model(params DeployService[] services) => new(services, [Secret, Plain]);
}
