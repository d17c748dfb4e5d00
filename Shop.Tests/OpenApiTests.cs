using System.Text.Json;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The OpenAPI documents as Scalar at /api-docs reads them, through the gateway: requests built from
/// them go to the gateway's origin, they describe every answer an operation gives, and a common
/// OpenAPI linter (Redocly CLI, recommended rules) finds no error in them.
/// </summary>
public sealed class OpenApiTests(ShopApp shop)
{
    public static TheoryData<string> Documents => ["users", "orders", "inventory"];

    /// <summary>Per document: operations ("METHOD path") that must list the status, with the problem schema.</summary>
    private static readonly Dictionary<string, (string Operation, string Status)[]> RequiredAnswers = new()
    {
        ["users"] = [("GET /users/{id}", "404"), ("POST /users/register", "409"), ("POST /users/login", "401"), ("POST /users/login", "429")],
        ["orders"] = [("GET /orders/{id}", "404")],
        ["inventory"] = [("GET /inventory/{sku}", "404"), ("POST /inventory", "409"), ("POST /inventory/{sku}/adjust", "409")],
    };

    private static readonly string[] PublicOperations =
        ["POST /users/register", "POST /users/login", "GET /users/.well-known/jwks.json", "POST /users/token/refresh", "POST /users/logout"];

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task The_document_points_at_the_gateway_and_describes_every_operation(string name)
    {
        var response = await shop.Client().GetAsync($"/{name}/openapi/v1.json");
        await response.ExpectAsync(200);
        var document = await response.JsonAsync();

        var servers = document.GetProperty("servers").EnumerateArray().Select(s => s.GetProperty("url").GetString()).ToList();
        Assert.Equal([shop.GatewayAddress.GetLeftPart(UriPartial.Authority)], servers);

        var operations = new Dictionary<string, JsonElement>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                operations[$"{method.Name.ToUpperInvariant()} {path.Name}"] = method.Value;
            }
        }
        Assert.NotEmpty(operations);

        var ids = new HashSet<string>();
        foreach (var (key, operation) in operations)
        {
            Assert.True(operation.TryGetProperty("operationId", out var id) && id.GetString() is { Length: > 0 }, $"{key} has no operationId");
            Assert.True(ids.Add(id.GetString()!), $"{key}: operationId {id} is not unique");
            Assert.True(operation.TryGetProperty("description", out var description) && description.GetString() is { Length: > 0 } text && !text.Contains('\n'),
                $"{key} has no one-line description");
            foreach (var answer in operation.GetProperty("responses").EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
            {
                Assert.True(answer.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out var problem) && problem.TryGetProperty("schema", out _),
                    $"{key}: the {answer.Name} answer has no problem schema: {answer.Value}");
            }
        }

        foreach (var key in PublicOperations.Where(operations.ContainsKey))
        {
            Assert.True(operations[key].TryGetProperty("security", out var security) && security.ValueKind == JsonValueKind.Array && security.GetArrayLength() == 0,
                $"{key} is public and must say security: []");
        }
        foreach (var (key, status) in RequiredAnswers[name])
        {
            Assert.True(operations.TryGetValue(key, out var operation), $"no operation {key} in {string.Join(", ", operations.Keys)}");
            Assert.True(operation.GetProperty("responses").TryGetProperty(status, out _), $"{key} does not list its {status} answer");
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task The_document_has_no_errors_under_redoclys_recommended_rules(string name)
    {
        var response = await shop.Client().GetAsync($"/{name}/openapi/v1.json");
        await response.ExpectAsync(200);
        // Kept with the test results: the document the linter judged.
        var file = Path.Combine(ShopAppHost.RepositoryRoot, "artifacts", "test-results", "openapi", name + ".json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, await response.Content.ReadAsStringAsync());
        var findings = await OpenApiLinter.LintAsync(file);

        var report = findings.Count == 0 ? "no findings" : string.Join("\n", findings);
        TestContext.Current.TestOutputHelper?.WriteLine($"redocly lint {name}: {report}");
        Assert.False(findings.Any(f => f.IsError), $"redocly lint {name}: {findings.Count(f => f.IsError)} errors\n{report}");
    }
}
