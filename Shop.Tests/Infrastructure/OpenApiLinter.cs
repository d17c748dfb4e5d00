using System.Text.Json;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// Redocly CLI's <c>lint</c> with its <c>recommended</c> rules (<c>tools/openapi-lint/redocly.yaml</c>), run
/// as a child process on one OpenAPI document. The CLI is pinned in <c>tools/openapi-lint/package.json</c> and
/// installed by <c>./shop</c> with <c>npm ci</c>; it needs no network once installed.
/// </summary>
public static class OpenApiLinter
{
    public sealed record Finding(string Rule, string Severity, string Message, string Pointer)
    {
        public bool IsError => Severity == "error";

        public override string ToString() => $"{Severity} {Rule} at {Pointer}: {Message}";
    }

    private static readonly string ToolDirectory = Path.Combine(ShopAppHost.RepositoryRoot, "tools", "openapi-lint");
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>Every finding in the document at <paramref name="file"/>, errors and warnings; throws when the linter could not judge it.</summary>
    public static async Task<IReadOnlyList<Finding>> LintAsync(string file)
    {
        var cli = Path.Combine(ToolDirectory, "node_modules", "@redocly", "cli", "bin", "cli.js");
        if (!File.Exists(cli))
        {
            throw new InvalidOperationException($"Redocly CLI is not installed at {cli}: run ./shop test, or (cd tools/openapi-lint && npm ci).");
        }
        var lint = await ChildProcess.RunAsync("node", [cli, "lint", "--config", Path.Combine(ToolDirectory, "redocly.yaml"), "--format", "json", file],
            ToolDirectory, new Dictionary<string, string?> { ["NO_COLOR"] = "1" }, Timeout);
        // Exit code 1 means "errors found", which the report lists; anything else, or no report, is the tool failing.
        var output = lint.Stdout;
        if (lint.ExitCode is not (0 or 1) || !output.TrimStart().StartsWith('{'))
        {
            throw new InvalidOperationException($"redocly lint could not judge {file}: {lint}");
        }
        using var report = JsonDocument.Parse(output);
        return [.. report.RootElement.GetProperty("problems").EnumerateArray().Select(p => new Finding(
            p.GetProperty("ruleId").GetString()!,
            p.GetProperty("severity").GetString()!,
            p.GetProperty("message").GetString()!,
            string.Join(", ", p.GetProperty("location").EnumerateArray().Select(l => l.GetProperty("pointer").GetString()))))];
    }
}
