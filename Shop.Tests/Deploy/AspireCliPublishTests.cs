using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// <c>aspire publish -o DIR</c> (the Aspire CLI from the repository's tool manifest) writes exactly what
/// <c>./shop publish compose DIR/compose</c> and <c>./shop publish k8s DIR/k8s</c> write, file for file
/// and byte for byte. Both are fed the same parameter values: the secrets the first publish generated
/// are placed in the CLI's output folders beforehand, where the publish steps read existing values from.
/// </summary>
public sealed class AspireCliPublishTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shop-aspire-cli-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Aspire_publish_writes_the_same_files_as_shop_publish_in_compose_and_k8s_folders()
    {
        // Same depth below the root on both sides: the compose file names the web build context relative to itself.
        var shop = Path.Combine(_root, "shop");
        var cli = Path.Combine(_root, "cli");
        // The test run built everything; both publish without building, in the test run's configuration.
        var noBuild = new Dictionary<string, string> { ["SHOP_NO_BUILD"] = "1", ["CONFIGURATION"] = PublishOutput.Configuration };
        var script = Path.Combine(PublishOutput.RepositoryRoot, "shop");
        await Task.WhenAll(
            PublishOutput.RunAsync(script, ["publish", "compose", Path.Combine(shop, "compose")], noBuild),
            PublishOutput.RunAsync(script, ["publish", "k8s", Path.Combine(shop, "k8s")], noBuild));

        var secretFiles = Directory.GetFiles(Path.Combine(shop, "k8s", "secrets")).Select(f => Path.Combine("k8s", "secrets", Path.GetFileName(f)));
        foreach (var valuesFile in secretFiles.Prepend(Path.Combine("compose", ".env")))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(cli, valuesFile))!);
            File.Copy(Path.Combine(shop, valuesFile), Path.Combine(cli, valuesFile));
        }
        // `dotnet aspire` is the local tool (dotnet-tools.json); the CLI has no configuration option, MSBuild reads it from the environment.
        await PublishOutput.RunAsync("dotnet", ["aspire", "publish", "-o", cli, "--non-interactive", "--nologo", "--no-build"],
            new Dictionary<string, string> { ["Configuration"] = PublishOutput.Configuration });

        var expected = Files(shop);
        var actual = Files(cli);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        Assert.Contains("compose/docker-compose.yaml", expected.Keys);
        Assert.Contains("k8s/kustomization.yaml", expected.Keys);
        Assert.All(expected, file => Assert.True(file.Value.AsSpan().SequenceEqual(actual[file.Key]), $"{file.Key} differs between ./shop publish and aspire publish"));
    }

    private static Dictionary<string, byte[]> Files(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
