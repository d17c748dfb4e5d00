using Microsoft.Extensions.Configuration;
using Shop.Publishing;
using static Shop.UnitTests.Publishing.Deployments;

namespace Shop.UnitTests.Publishing;

/// <summary>
/// Publishing compose again into an output directory (<c>./shop publish compose DIR --Parameters:…</c>, docs/deploy.md):
/// what the operator set in its <c>.env</c> stays unless the publish is told otherwise.
/// </summary>
public sealed class ComposeRepublishTests : IDisposable
{
    private readonly string _output = Path.Combine(Path.GetTempPath(), "shop-compose-republish-" + Guid.NewGuid().ToString("N"));

    private static readonly Dictionary<string, string> Values = new(StringComparer.Ordinal)
    {
        ["DB_PASSWORD"] = "s3cret",
        ["ADMIN_EMAIL"] = "admin@shop.local",
    };

    private static DeploymentModel Users() => Model(Project("users", ports: [Http(8080)]));

    private string EnvPath => Path.Combine(_output, ComposeWriter.EnvFileName);

    private void EditEnv(string line, string replacement)
    {
        var text = File.ReadAllText(EnvPath);
        Assert.Contains(line + "\n", text);
        File.WriteAllText(EnvPath, text.Replace(line + "\n", replacement + "\n", StringComparison.Ordinal));
    }

    /// <summary>
    /// docs/deploy.md: the registry and tag are "overridable at up time with SHOP_REGISTRY / SHOP_TAG in .env", and the
    /// README sends the images "where SHOP_REGISTRY in .env points". Publishing again without --Shop:Publish:Registry/Tag
    /// (to change one parameter, as docs/deploy.md shows for the sample ratio) wrote shop / latest back, so the next
    /// docker compose up -d recreated every service from shop/&lt;name&gt;:latest: Docker Hub's, or an old local build.
    /// </summary>
    [Fact]
    public void A_registry_and_tag_set_in_env_survive_publishing_again_without_them()
    {
        var model = Users();
        PublishTarget.Compose.WriteOver(model, _ => Values, Options, _output);
        EditEnv("SHOP_REGISTRY=shop", "SHOP_REGISTRY=ghcr.io/acme");
        EditEnv("SHOP_TAG=latest", "SHOP_TAG=1.4.0");

        PublishTarget.Compose.WriteOver(model, _ => Values, Options, _output);

        var env = EnvFile.Read(EnvPath);
        Assert.Equal(("ghcr.io/acme", "1.4.0"), (env[PublishOptions.RegistryVariable], env[PublishOptions.TagVariable]));
        // The compose file's own default follows, for a .env that lacks the keys.
        Assert.Contains("image: ${SHOP_REGISTRY:-ghcr.io/acme}/users:${SHOP_TAG:-1.4.0}\n", File.ReadAllText(Path.Combine(_output, ComposeWriter.FileName)));
    }

    [Fact]
    public void A_registry_and_tag_given_to_the_publish_replace_those_in_env()
    {
        var model = Users();
        PublishTarget.Compose.WriteOver(model, _ => Values, Options, _output);
        EditEnv("SHOP_TAG=latest", "SHOP_TAG=1.4.0");
        var options = PublishOptions.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Shop:Publish:Registry"] = "registry.example.com/shop",
            ["Shop:Publish:Tag"] = "1.5.0",
        }).Build());

        PublishTarget.Compose.WriteOver(model, _ => Values, options, _output);

        var env = EnvFile.Read(EnvPath);
        Assert.Equal(("registry.example.com/shop", "1.5.0"), (env[PublishOptions.RegistryVariable], env[PublishOptions.TagVariable]));
    }

    public void Dispose()
    {
        if (Directory.Exists(_output))
        {
            Directory.Delete(_output, recursive: true);
        }
    }
}
