using Xunit;
using System.Text.Json;

namespace Shop.Tests.Deploy;

/// <summary>Aspire's own view of the app model (<c>--publisher manifest</c>), independent of our publishers.</summary>
public sealed record AppHostManifest(IReadOnlyList<string> ComputeResources, IReadOnlyList<(string Name, bool Secret)> Parameters, IReadOnlyList<string> Databases)
{
    /// <summary>Every component the deployment must hold.</summary>
    public static readonly string[] SpecComponents = ["gateway", "users", "orders", "inventory", "web", "redis", "users-db", "orders-db", "inventory-db"];

    public static AppHostManifest Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var compute = new List<string>();
        var parameters = new List<(string, bool)>();
        var optional = new HashSet<string>(StringComparer.Ordinal);
        var databases = new List<string>();
        foreach (var resource in document.RootElement.GetProperty("resources").EnumerateObject())
        {
            var type = resource.Value.GetProperty("type").GetString();
            switch (type)
            {
                case "project.v0" or "project.v1" or "container.v0" or "container.v1":
                    compute.Add(resource.Name);
                    break;
                case "parameter.v0":
                    var secret = resource.Value.GetProperty("inputs").GetProperty("value").TryGetProperty("secret", out var s) && s.GetBoolean();
                    parameters.Add((resource.Name, secret));
                    if (resource.Value.GetProperty("inputs").GetProperty("value").TryGetProperty("default", out var d)
                        && d.TryGetProperty("value", out var v) && v.GetString() == "")
                    {
                        optional.Add(resource.Name);
                    }
                    break;
                case "value.v0" when resource.Value.TryGetProperty("connectionString", out var cs) && cs.GetString()!.Contains(";Database=", StringComparison.Ordinal):
                    databases.Add(cs.GetString()!.Split(";Database=")[1]);
                    break;
            }
        }
        return new AppHostManifest(compute, parameters, databases) { OptionalParameters = optional };
    }

    /// <summary>The parameters whose default is an empty value: optional, empty unless the operator sets them.</summary>
    public IReadOnlySet<string> OptionalParameters { get; init; } = new HashSet<string>();

    public static string Key(string parameterName) => parameterName.ToUpperInvariant().Replace('-', '_');
}
