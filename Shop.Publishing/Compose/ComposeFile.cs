using YamlDotNet.Serialization;

namespace Shop.Publishing;

/// <summary>The part of the compose file format the Shop writes (serialized by <see cref="YamlOutput"/>).</summary>
internal sealed record ComposeFile
{
    public required string Name { get; init; }
    public required IReadOnlyDictionary<string, ComposeService> Services { get; init; }
    public required IReadOnlyDictionary<string, ComposeNetwork> Networks { get; init; }

    /// <summary>Named volumes, with compose's defaults (null: none).</summary>
    public IReadOnlyDictionary<string, ComposeVolume>? Volumes { get; init; }
}

/// <summary>A service; null members are left out of the file.</summary>
internal sealed record ComposeService
{
    public required string Image { get; init; }
    public ComposeBuild? Build { get; init; }
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public IReadOnlyList<string>? Ports { get; init; }
    public IReadOnlyList<string>? Expose { get; init; }
    public IReadOnlyList<string>? Volumes { get; init; }

    /// <summary><c>uid:gid</c>; null: the image's own user. Quoted: YAML 1.1 (docker-compose 1.29's PyYAML) reads <c>70:70</c> as the base-60 number 4270.</summary>
    [YamlMember(ScalarStyle = YamlDotNet.Core.ScalarStyle.DoubleQuoted)]
    public string? User { get; init; }

    [YamlMember(Alias = "read_only", ApplyNamingConventions = false)]
    public bool? ReadOnly { get; init; }

    /// <summary>Directories mounted as tmpfs (writable under a read-only root filesystem).</summary>
    public IReadOnlyList<string>? Tmpfs { get; init; }

    [YamlMember(Alias = "cap_drop", ApplyNamingConventions = false)]
    public IReadOnlyList<string>? CapDrop { get; init; }

    [YamlMember(Alias = "security_opt", ApplyNamingConventions = false)]
    public IReadOnlyList<string>? SecurityOpt { get; init; }

    /// <summary>Docker's byte notation (<c>448m</c>, in 1024s).</summary>
    [YamlMember(Alias = "mem_limit", ApplyNamingConventions = false)]
    public string? MemLimit { get; init; }

    public ComposeHealthCheck? Healthcheck { get; init; }

    public ComposeLogging? Logging { get; init; }

    [YamlMember(Alias = "depends_on", ApplyNamingConventions = false)]
    public IReadOnlyDictionary<string, ComposeDependency>? DependsOn { get; init; }

    public ComposeDeploy? Deploy { get; init; }
    public required IReadOnlyList<string> Networks { get; init; }

    /// <summary>How long <c>docker compose stop</c> waits after the stop signal before it kills (null: Docker's 10 s).</summary>
    [YamlMember(Alias = "stop_grace_period", ApplyNamingConventions = false)]
    public string? StopGracePeriod { get; init; }

    /// <summary>Null: compose's default, "no".</summary>
    public string? Restart { get; init; }
}

internal sealed record ComposeBuild(string Context, string Dockerfile, IReadOnlyDictionary<string, string>? Args);

/// <summary>A logging driver and its options (<c>max-size</c>, <c>max-file</c>).</summary>
internal sealed record ComposeLogging(string Driver, IReadOnlyDictionary<string, string> Options);

internal sealed record ComposeHealthCheck(
    IReadOnlyList<string> Test,
    string Interval,
    string Timeout,
    int Retries,
    [property: YamlMember(Alias = "start_period", ApplyNamingConventions = false)] string StartPeriod);

/// <summary><c>service_started</c>, <c>service_healthy</c> or <c>service_completed_successfully</c>.</summary>
internal sealed record ComposeDependency(string Condition);

internal sealed record ComposeDeploy(int Replicas);

internal sealed record ComposeNetwork(string Driver);

/// <summary>A named volume with compose's defaults (written as <c>{}</c>).</summary>
internal sealed record ComposeVolume;
