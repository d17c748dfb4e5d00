using Xunit;
using System.Diagnostics;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Shop.Tests.Deploy;

/// <summary>
/// Runs the real AppHost's publish steps once per test run (as <c>./shop publish</c> does, a
/// separate process) into temporary directories, plus Aspire's own manifest as an independent
/// list of the app model's resources.
/// </summary>
public sealed class PublishOutput : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "shop-deploy-test-" + Guid.NewGuid().ToString("N"));
    public string ComposeDirectory => Path.Combine(Root, "compose");
    public string KubernetesDirectory => Path.Combine(Root, "k8s");
    public string ManifestPath => Path.Combine(Root, "manifest.json");

    public static string RepositoryRoot { get; } = FindRepositoryRoot();
    public static string AppHostProject => Path.Combine(RepositoryRoot, "Shop.AppHost", "Shop.AppHost.csproj");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        await Task.WhenAll(
            RunAppHostAsync("--operation", "publish", "--step", "publish-compose", "--output-path", ComposeDirectory),
            RunAppHostAsync("--operation", "publish", "--step", "publish-k8s", "--output-path", KubernetesDirectory),
            RunAppHostAsync("--publisher", "manifest", "--output-path", ManifestPath));
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    public static async Task RunAppHostAsync(params string[] args)
    {
        // The test run built the AppHost (project reference) in the same configuration.
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        foreach (var arg in (string[])["run", "--no-build", "--no-launch-profile", "-c", configuration, "--project", AppHostProject, "--", .. args])
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"AppHost {string.Join(' ', args)} did not finish in 2 minutes:\n{await stdout}");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"AppHost {string.Join(' ', args)} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shop.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Shop.sln not found above " + AppContext.BaseDirectory);
    }

    // ---- Parsing helpers shared by the tests ----

    public static YamlMappingNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    public static Dictionary<string, object> LoadMap(string path) =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(File.ReadAllText(path));

    public static Dictionary<string, string> LoadEnvFile(string path) =>
        File.ReadAllLines(path)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\''));
}

[CollectionDefinition(Name)]
public sealed class PublishCollection : ICollectionFixture<PublishOutput>
{
    public const string Name = "Deploy publish output";
}
