using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Shop.Publishing;

/// <summary>
/// YAML emission of the writers' own typed models (compose, kustomization): properties in declaration
/// order and camelCase (snake_case names are given with <c>YamlMember</c>), nulls left out, ambiguous
/// strings quoted. Dictionary keys (environment names, labels) are written as they are.
/// </summary>
public static class YamlOutput
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .Build();

    public static string Serialize(object document) => Serializer.Serialize(document);

    public static void WriteFile(string path, string header, string yaml) =>
        File.WriteAllText(path, $"# {header}\n{yaml}");

    /// <summary>
    /// The parameter keys a deployment needs: every parameter, plus the URI-escaped form of those
    /// used inside URIs.
    /// </summary>
    public static IEnumerable<string> UsedKeys(DeploymentModel model) =>
        model.Parameters.Select(p => p.Key)
            .Concat(model.Services.SelectMany(s => s.Environment.Select(e => e.Value).Concat(s.Args))
                .SelectMany(v => v.Parameters).Select(p => p.Key))
            .Distinct(StringComparer.Ordinal);

    /// <summary>Writes a file of secret values readable by its owner only.</summary>
    public static void WriteSecretFile(string path, string content)
    {
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public static void WriteGitIgnore(string directory, params string[] patterns) =>
        File.WriteAllText(Path.Combine(directory, ".gitignore"),
            "# Generated secrets: never commit.\n" + string.Join('\n', patterns) + "\n");
}
